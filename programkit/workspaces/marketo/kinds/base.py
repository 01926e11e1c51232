"""What the Marketo target does for one bundle kind: :class:`MarketoKind`.

A module here (``form.py``, ``landing_page.py``, …) subclasses it for one kind of ``programkit.kinds``
and registers an instance in ``kinds/__init__.py``. The target's stages consult the registry instead of
naming the kind: apply (create, follow-up content, replace, delete, approval order), inventory (preflight,
the program's assets, export's ``read``, the plan's call estimate), journal (rollback deletes through
``segment``) and verify (the checklist steps it can read back).

Rules a kind module keeps:

- every call that changes Marketo is a journal step with a key of its own (``writer.journal.done(key)`` /
  ``writer.journal.add(step)``), so ``--resume`` redoes none that was answered;
- what the API cannot write goes to the checklist (``manual_steps``) with the reason, never dropped;
- the Adobe page a behaviour comes from is cited beside the code.

Nothing here imports apply, inventory or verify (only checklist's wording): they import the registry, never the other way round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from ..checklist import UNKNOWN_STEP

if TYPE_CHECKING:  # pragma: no cover - types only
    from ....findings import Finding
    from ..apply import MarketoWriter
    from ..inventory import MarketoInventory

#: a verify result for one checklist step: (status, step, expected, found, why) — status is one of verify's
#: "done", "missing", "differs", "manual" (why: the reason the API cannot read it)
StepCheck = tuple[str, str, "str | None", "str | None", "str | None"]

#: verify's reason for a step the API cannot read back
CANNOT_READ = UNKNOWN_STEP


class MarketoKind:
    """The Marketo side of one program-local bundle kind. Subclasses set the class attributes and override
    the methods their kind needs; the defaults describe a kind with nothing beyond its create call."""

    #: the bundle kind (``programkit.kinds``) this writes
    kind: str = ""
    #: how a checklist names one of them ("landing page")
    label: str = ""
    #: Marketo's asset path segment: ``/rest/asset/v1/{segment}/{id}.json``, ``…/approveDraft.json``, ``…/delete.json``
    segment: str = ""
    #: the list endpoint, browsed with ``folder=`` for one program and whole for the instance
    browse: str = ""
    #: has drafts that ``import --approve`` approves (``{segment}/{id}/approveDraft.json``)
    approvable: bool = False
    #: approval order among approvable kinds: lower first (a form is approved before the landing page
    #: that embeds it; Design Studio kinds come before every program kind)
    approve_rank: int = 50

    #: whether :meth:`replace` writes to Marketo (False: it only puts the change on the checklist, so rollback has
    #: nothing to put back and says nothing about it)
    replace_writes: bool = True
    #: the checklist heading of one the API could not create (``create`` returned None), e.g. "not written:
    #: the API cannot create one"
    unwritten_reason: str = "not written: no API for it"

    # -- apply ----------------------------------------------------------------------------------------
    def prepare(self, writer: "MarketoWriter", docs: list[Any]) -> None:
        """Before a batch of new ones is created side by side: read once what their creates share (the
        templates they name, segmentations), so the workers do not each read it."""

    def create(self, writer: "MarketoWriter", name: str, doc: Any, folder: dict[str, Any],
               meta: dict[str, Any]) -> dict[str, Any] | None:
        """The one create call; returns Marketo's record (``id``, ``name``, ``updatedAt``…). ``folder`` is the
        ``{"id", "type"}`` reference of the program or its folder. The writer journals it.

        None: the API cannot create this one (e.g. Adobe's Smart Lists API only clones, and there is nothing to
        clone). The writer then journals it as not written and puts it on the checklist whole
        (:meth:`unwritten_steps`, under :attr:`unwritten_reason`); its mapping id is ``asset_id(kind, 0)``, and
        the next plan lets that record stand for it while Marketo holds none of that name (like a lifecycle)."""
        raise NotImplementedError(f"{type(self).__name__}.create")

    def unwritten_steps(self, name: str, doc: Any, folder_path: str) -> list[str]:
        """The checklist of one :meth:`create` could not create: how to build it by hand, step by step."""
        return []

    def delete(self, writer_or_ws: Any, mid: int) -> None:
        """Delete one (rollback, ``--prune``): ``{segment}/{id}/delete.json``. A kind Marketo will not delete in
        some state (an approved landing page) does what that takes first. ``writer_or_ws.client`` is the client."""
        writer_or_ws.client.post(f"/rest/asset/v1/{self.segment}/{mid}/delete.json", {})

    def write_content(self, writer: "MarketoWriter", mid: int, name: str, doc: Any, meta: dict[str, Any]) -> None:
        """Follow-up calls after the create (content, fields, settings), each journalled under its own key.
        Runs on a worker thread, after every asset of a lower ``programkit.kinds`` rank was created."""

    def after_writes(self, writer: "MarketoWriter", mid: int, name: str, doc: Any, meta: dict[str, Any]) -> None:
        """Follow-up calls that need assets of a later ``programkit.kinds`` rank (a form's thank-you landing
        page, created after the form): run once every create and content call of the import is done, before
        ``--approve`` approves anything; each journalled under its own key."""

    def replace(self, writer: "MarketoWriter", mid: int, doc: Any, meta: dict[str, Any]) -> None:
        """Make an existing asset's content the bundle's (the plan's ``replace``)."""
        raise NotImplementedError(f"{type(self).__name__}.replace")

    def manual_steps(self, doc: Any) -> list[str]:
        """Checklist lines for what the API cannot write, each with the reason ("…: the API has no …")."""
        return []

    def expect(self, doc: Any) -> dict[str, Any]:
        """What the checklist item keeps of the bundle for ``verify`` to compare with Marketo later."""
        return {}

    # -- inventory / plan -------------------------------------------------------------------------------
    def preflight(self, inventory: "MarketoInventory", asset: Any) -> Iterable["Finding"]:
        """Every refusal Marketo would give this asset that can be known before writing (all at once)."""
        return ()

    def calls(self, doc: Any, action: str) -> int:
        """API calls applying ``action`` (create, rename, replace, update, delete) to this asset costs."""
        return 1

    # -- export / verify ------------------------------------------------------------------------------
    def document(self, inventory: "MarketoInventory", record: dict[str, Any]) -> tuple[bytes, list[dict[str, str]]]:
        """Export: the bundle document for a Marketo record (bytes as the bundle's file holds them) and what
        could not be read (``needsCompletion`` items: ``{"pointer", "what", "why"}``)."""
        raise NotImplementedError(f"{type(self).__name__}.document")

    def check_steps(self, expect: dict[str, Any], found: Any, steps: list[str]) -> list[StepCheck]:
        """``verify``: each checklist step (approval steps are checked by verify itself) against the exported
        document ``found``. Default: the API cannot read it."""
        return [("manual", s, None, None, CANNOT_READ) for s in steps]
