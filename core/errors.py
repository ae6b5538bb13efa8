"""One exception hierarchy for docflow.

    DocflowError                 message for a person, exit code, retryable flag
    ├── ConfigError              a settings value, policy or contract file is invalid (fatal)
    ├── BadDocumentError         the file cannot be read as a document (needs a person, never retried)
    │   ├── EmptyFileError
    │   ├── EncryptedDocumentError
    │   ├── CorruptDocumentError
    │   ├── UnsupportedFormatError
    │   └── TooLargeError
    ├── TransientError           storage or database hiccup: retry with backoff
    ├── RefusedError             storage will not hand over one object (permissions, archived)
    ├── NotFoundError            a document, item or user that does not exist
    └── ConflictError            an action that does not fit the item's current state

Exceptions become exit codes, HTTP statuses or Prefect states only at the edges.
"""

from __future__ import annotations


class DocflowError(Exception):
    exit_code = 1
    retryable = False
    needs_review = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(DocflowError):
    exit_code = 2


class BadDocumentError(DocflowError):
    """The file is not a readable document; it is quarantined with ``code`` as the finding."""

    needs_review = True
    code = "unreadable"


class EmptyFileError(BadDocumentError):
    code = "empty_file"


class EncryptedDocumentError(BadDocumentError):
    code = "encrypted"


class CorruptDocumentError(BadDocumentError):
    code = "corrupt"


class UnsupportedFormatError(BadDocumentError):
    code = "unsupported_format"


class TooLargeError(BadDocumentError):
    code = "too_large"


class TransientError(DocflowError):
    retryable = True
    exit_code = 75


class RefusedError(DocflowError):
    """Storage refuses one object: no permission to read it, or it lies in an archive storage
    class that needs a restore first. Another try within the run would not mend it (so it is no
    ``TransientError``); the file is left where it is and reported."""

    exit_code = 77  # sysexits EX_NOPERM


class NotFoundError(DocflowError):
    exit_code = 3


class ConflictError(DocflowError):
    exit_code = 4
