"""A requested return's label (made through the carrier integration when the return was requested,
activities.return_labels): its PDF for support staff to send to the customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.deps import LabelsDep, require
from domain.staff import Permission, StaffMember

router = APIRouter(prefix="/returns", tags=["returns"])

ReturnsStaff = Annotated[StaffMember, Depends(require(Permission.RETURNS))]
_PDF: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/pdf": {}}, "description": "the return label (PDF)"},
    404: {"description": "no such return, or it has no return label (none asked for, pending, refused, or none)"},
}


@router.get("/{return_id}/label", response_class=Response, responses=_PDF)
def get_return_label(return_id: str, _: ReturnsStaff, labels: LabelsDep) -> Response:
    """The return label from the customer back to the location that shipped the goods, with the RMA
    as its reference: the `label_url` the return-label step answers."""
    label = labels.return_label_document(return_id)
    return Response(
        label.content,
        media_type=label.media_type,
        headers={"Content-Disposition": f'inline; filename="{label.filename}"', "Cache-Control": "no-store"},
    )
