"""The exceptions queue: where people clear the documents the automation could not post.

- ``store``: enqueue, claim / claim_next (leases; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL),
  save (per-field corrections, re-validated through ``store.revalidate``), approve (posts via
  ``storage.outbox.post_document``), reject, escalate, release; ``list_items`` and
  ``queue_list_json`` (``docflow queue list --json``).
- ``users``: ``add_user`` / ``verify`` (argon2id), roles ``reviewer``, ``finance``, ``admin``.
- ``reports``: the per-document audit view and the reviewer analytics.
- ``web``: ``create_app(settings)``, the review web app and its JSON API (``docflow serve``).
- ``demo``: a drawn sample invoice in the queue, for tests and local demos.
"""
