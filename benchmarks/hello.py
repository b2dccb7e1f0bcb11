"""The ceiling: a hello-world Flask app served by the same gunicorn configuration as pointsapp."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    """Say hello."""
    return "Hello, world!"
