"""The Great Expectations side of table_checks.py: the metric `hdh.table_checks` and `ExpectTableChecks`."""
from __future__ import annotations

import json
from typing import Any, ClassVar

from great_expectations.compatibility.sqlalchemy import sqlalchemy as sa
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.query_metric_provider import QueryMetricProvider

from hdh_pipeline.quality.table_checks import code_list_counts, counting_query
from hdh_pipeline.vocabulary import passes


class TableChecks(QueryMetricProvider):
    """[[evaluated rows, failing rows], ...] for the checks of an `ExpectTableChecks`."""

    metric_name = "hdh.table_checks"
    value_keys = ("checks",)

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, execution_engine: SqlAlchemyExecutionEngine, metric_domain_kwargs: dict,
                    metric_value_kwargs: dict, metrics: dict[str, Any], runtime_configuration: dict) -> list:
        batch, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        checks = json.loads(metric_value_kwargs["checks"])

        def run(query: str) -> list:
            substituted = cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
                query=query, batch_selectable=batch, execution_engine=execution_engine)
            return execution_engine.execute_query(sa.text(substituted)).fetchall()

        row = run(counting_query(checks))[0]
        counts = [[row[i], row[i + 1]] for i in range(0, len(row), 2)]
        if any(check.get("code_list") for check in checks):
            for position, failing in run(code_list_counts(checks)):
                counts[position][1] = failing
        return counts


class ExpectTableChecks(BatchExpectation):
    """Checks of one table counted together; each passes when its failing share is at most its threshold.
    `checks` is JSON text (a list of `compile_check` dicts with `check` and `threshold_pct`): GX copies an
    expectation's arguments a dozen times when it validates it, a list of hundreds of dicts each time."""

    checks: str

    metric_dependencies: ClassVar[tuple[str, ...]] = ("hdh.table_checks",)
    success_keys: ClassVar[tuple[str, ...]] = ("checks",)
    domain_keys: ClassVar[tuple[str, ...]] = ("batch_id", "row_condition", "condition_parser")

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                  execution_engine: object = None) -> dict:
        details, failed = [], 0
        for check, (evaluated, failing) in zip(json.loads(self.checks), metrics["hdh.table_checks"]):
            passed = passes(evaluated, failing, check["threshold_pct"])
            failed += not passed
            details.append({"check": check["check"], "evaluated_rows": evaluated, "failing_rows": failing,
                            "passed": passed})
        names = [d["check"] for d in details if not d["passed"]]
        observed = f"{failed} of {len(details)} checks failed" + (f": {', '.join(names[:20])}" if names else "") + \
            (" ..." if len(names) > 20 else "")
        return {"success": failed == 0, "result": {"observed_value": observed, "details": {"checks": details}}}
