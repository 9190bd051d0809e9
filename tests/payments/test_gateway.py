"""The payment gateway seam: registered methods, what checkout offers, and who may import a provider."""
import ast
from pathlib import Path

from marketplace.payments import registry
from marketplace.payments.gateway import Collector, PaymentGateway

ROOT = Path(__file__).resolve().parents[2] / "marketplace"
PROVIDER_SDKS = {"stripe"}
GATEWAY_MODULES = {"payments/stripe_gateway.py"}
PROVIDER_MODULES = {"marketplace.payments.stripe_gateway", "marketplace.payments.cod", "marketplace.payments.vietqr",
                    "marketplace.payments.vnpay"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_registered_methods_implement_the_seam():
    ids = [m.identifier for m in registry.METHODS]
    assert len(ids) == len(set(ids)) and all(0 < len(i) <= 16 for i in ids)
    assert all(isinstance(m, PaymentGateway) for m in registry.METHODS)
    assert registry.DEFAULT == "cod" and registry.METHODS[0].identifier == "cod"


def test_cash_on_delivery_always_offered_stripe_only_with_keys():
    none = {"STRIPE_SECRET_KEY": None, "STRIPE_WEBHOOK_SECRET": None, "VIETQR_BANK_BIN": None,
            "VIETQR_ACCOUNT_NUMBER": None, "VIETQR_ACCOUNT_NAME": None, "VNPAY_TMN_CODE": None,
            "VNPAY_HASH_SECRET": None}
    assert [m.identifier for m in registry.enabled(none)] == ["cod"]
    assert [m.identifier for m in registry.enabled({**none, "STRIPE_SECRET_KEY": "sk"})] == ["cod"]
    keys = {"STRIPE_SECRET_KEY": "sk", "STRIPE_WEBHOOK_SECRET": "whsec"}
    assert [m.identifier for m in registry.enabled({**none, **keys})] == ["cod", "stripe"]
    vietqr = {"VIETQR_BANK_BIN": "970436", "VIETQR_ACCOUNT_NUMBER": "001", "VIETQR_ACCOUNT_NAME": "CLN"}
    assert [m.identifier for m in registry.enabled({**none, **vietqr, "VIETQR_ACCOUNT_NAME": None})] == ["cod"]
    vnpay = {"VNPAY_TMN_CODE": "CLN1", "VNPAY_HASH_SECRET": "s"}
    assert [m.identifier for m in registry.enabled({**none, **keys, **vietqr, **vnpay})] == ["cod", "vietqr", "vnpay",
                                                                                              "stripe"]


def test_only_gateway_modules_import_a_provider_sdk():
    offenders = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                 if {n.split(".")[0] for n in _imports(p)} & PROVIDER_SDKS
                 and str(p.relative_to(ROOT)) not in GATEWAY_MODULES]
    assert not offenders, offenders


def test_orders_reach_payment_methods_only_through_the_seam():
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & PROVIDER_MODULES)
                 for p in (ROOT / "orders").rglob("*.py") if _imports(p) & PROVIDER_MODULES}
    assert not offenders, offenders


def test_every_method_says_who_collects_the_money():
    """The shop ledger books sales and refunds from ``collector`` alone (issue #14)."""
    for method in registry.METHODS:
        assert method.collector in Collector.CHOICES, method.identifier
    assert registry.get("cod").collector == Collector.SHOP
    assert registry.get("stripe").collector == Collector.PLATFORM
