"""Upload size limit enforced while the request body streams in, not afterwards."""

from __future__ import annotations

from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers

# Form fields and multipart headers travel beside the file; a body this much
# larger than the limit cannot hold a file within it.
MULTIPART_SLACK = 64 * 1024


class RefusedUpload(UploadedFile):
    """Stands in for a file over the limit: knows its size, holds no content."""

    refused = True

    def __init__(self, *, name: str, content_type: str, size: int, field_name: str):
        super().__init__(
            file=BytesIO(), name=name, content_type=content_type, size=size
        )
        self.field_name = field_name


class LimitedUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: passes chunks on until PRISMA_UPLOAD_MAX_BYTES,
    then drops what the later handlers stored and swallows the rest.

    Forms see a RefusedUpload whose size exceeds the limit and refuse it with their
    usual message, so nothing of an oversized file stays in memory, in the temporary
    directory or in MEDIA_ROOT.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.PRISMA_UPLOAD_MAX_BYTES
        self.body_too_large = False
        self.refused = False
        self.passed_on = 0  # bytes of the current file handed to later handlers

    def handle_raw_input(
        self, input_data, META, content_length, boundary, encoding=None
    ):
        # Content-Length is known before the first byte is read: a body far over
        # the limit never reaches the storing handlers at all.
        self.body_too_large = bool(
            content_length and content_length > self.limit + MULTIPART_SLACK
        )

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.passed_on = 0
        self.refused = self.body_too_large
        if self.refused:
            raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        if self.refused:
            return None
        if start + len(raw_data) > self.limit:
            self.refused = True
            self._discard_later_handlers()
            return None
        self.passed_on += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        if not self.refused:
            return None
        return RefusedUpload(
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            field_name=self.field_name,
        )

    def _discard_later_handlers(self) -> None:
        handlers = list(getattr(self.request, "upload_handlers", []))
        for handler in handlers[handlers.index(self) + 1 :]:
            handler.upload_interrupted()
