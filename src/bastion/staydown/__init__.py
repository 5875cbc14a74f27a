"""Stay-down: content that was blocked or removed stays down, until a person lifts it.

One service, :class:`~bastion.staydown.service.StayDown`, fed by automatic blocks (the guard's
:class:`~bastion.staydown.effect.StayDownEffect`) and by human removals (the workflow's
decisions) alike. One table holds it: the entries of the stay-down banks (``removed_content``,
``blocked_generations``), with two signal types per item: ``sha256`` (the exact bytes: an
identical re-upload, even of an image too flat for PDQ) and ``pdq`` (re-encoded, resized or
cropped copies, matched by every upload scan). A removal reversed on appeal, or a case in which
a reviewer found no violation, lifts both (entries are disabled, never deleted). A block whose
only reason is a detector failure is never banked: an outage is not evidence.
"""

from bastion.staydown.model import COPY_DISTANCE, Copy, RemovedContent
from bastion.staydown.service import StayDown

__all__ = ["COPY_DISTANCE", "Copy", "RemovedContent", "StayDown"]
