"""docflow validators: typed models, Great Expectations suites, business rules, decision policy.

The pipeline calls exactly this API::

    ctx = load_context(settings, client, today, history)       # once per client and run
    result = validate_batch(items, ctx)                         # one GX run per batch
    decision = decide(item.extraction, result.per_document[item.document_id], ctx.policy)
    write_data_docs(result, run_dir)                            # optional HTML report
    validate_fields(doc_type, corrected_values, ctx, document_id=...)   # review page

Great Expectations is imported on the first ``validate_batch`` only (it takes seconds).
"""

from validators.batch import (
    BatchResult,
    ValidationContext,
    ValidationItem,
    load_context,
    validate_batch,
    validate_fields,
)
from validators.expectations import check_suites, load_suites, write_data_docs
from validators.history import History, InMemoryHistory, number_key, vendor_key
from validators.models import Claim, Invoice, LineItem, Receipt, ServiceLine, coerce
from validators.policy import Policy, decide, load_policy
from validators.rules import duplicate_keys

__all__ = [
    "BatchResult",
    "Claim",
    "History",
    "InMemoryHistory",
    "Invoice",
    "LineItem",
    "Policy",
    "Receipt",
    "ServiceLine",
    "ValidationContext",
    "ValidationItem",
    "check_suites",
    "coerce",
    "decide",
    "duplicate_keys",
    "load_context",
    "load_policy",
    "load_suites",
    "number_key",
    "validate_batch",
    "validate_fields",
    "vendor_key",
    "write_data_docs",
]
