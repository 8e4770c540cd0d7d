"""Acupuncture back-pain chatbot: corpus -> passages -> index -> answer -> HTTP."""
__version__ = "0.1.0"
