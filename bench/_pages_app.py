"""The real app plus a bare hello route: the baseline for bench/pages.py."""
from marketplace import create_app
from marketplace.accounts.permissions import public

app = create_app()


@app.get("/__hello")
@public
def hello():
    return "hello"
