from chatbot import create_app

app = create_app()
