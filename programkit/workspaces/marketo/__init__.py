"""The Marketo Engage target: a Marketo instance as a workspace, over the REST API.

One module per concern: :mod:`.client` (HTTP, OAuth, envelopes), :mod:`.pacing` (limits, retries),
:mod:`.inventory` (reads), :mod:`.apply` (writes), :mod:`.journal` (journal, resume, rollback),
:mod:`.checklist` (manual steps), :mod:`.export`, :mod:`.verify`; :mod:`.common` holds what they share.
"""

from .apply import MarketoWriter
from .client import DAILY_QUOTA, MarketoClient, MarketoError, cost_estimate
from .common import CHECKLIST_OUTCOMES, asset_id, split_id
from .inventory import MarketoInventory
from .journal import Journal, RollbackResult, list_journals, no_local_history, resume_import, rollback
from .pacing import Limits, RateLimiter
from .workspace import MarketoWorkspace

__all__ = ["CHECKLIST_OUTCOMES", "DAILY_QUOTA", "Journal", "Limits", "MarketoClient", "MarketoError",
           "MarketoInventory", "MarketoWorkspace", "MarketoWriter", "RateLimiter", "RollbackResult", "asset_id",
           "cost_estimate", "list_journals", "no_local_history", "resume_import", "rollback", "split_id"]
