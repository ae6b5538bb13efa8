"""docflow billing: ledger, contracts, cost per document, QA accuracy and the finance reports.

The entry points others call::

    from billing.accuracy import qa_sample          # pipeline: route a posted doc to QA?
    from billing.contracts import load_contract     # per-client terms and cost model
    from billing.reports import build_report, write_report
    from billing.web import make_router             # GET /billing/report for the web app
"""
