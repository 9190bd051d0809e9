"""Personal-data rights (Law 91/2025/QH15): a user downloads their data; a shopper deletes their account."""
from flask import Blueprint

bp = Blueprint("privacy", __name__)

from marketplace.privacy import views  # noqa: E402,F401
