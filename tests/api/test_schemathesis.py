"""Property-based run of the OpenAPI document against the WSGI app (no network): every generated
request gets no 5xx and a response that conforms to the document (status, content type, schema).

Bounded: ``EXAMPLES_PER_OPERATION`` examples for each operation (a few hundred in all), on the seeded
demo database, with an artisan's bearer token so the write operations run too.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.extensions import db

EXAMPLES_PER_OPERATION = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_api_conforms_to_its_openapi_document(demo_app):
    import sqlalchemy as sa

    from marketplace.accounts.models import User
    from marketplace.api.services import issue_token

    artisan = db.session.scalar(sa.select(User).where(User.email == "artisan01@demo.cholangnghe.vn"))
    _, secret = issue_token(artisan, "schemathesis")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo_app)
    total = 0
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        seen = []

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            seen.append(1)  # noqa: B023  (run() is called below, within this iteration)
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        run()
        total += len(seen)
    assert operations >= 12
    assert total >= 200, total
    print(f"schemathesis: {total} examples over {operations} operations")
