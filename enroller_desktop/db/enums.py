"""The enumerations of RULES §2, §3 and §6, stored as their snake_case words.

Each member's value is what the database holds; ``label`` is how the old help page writes it.
"""

from __future__ import annotations

import enum


class _Word(str, enum.Enum):
    """A value stored as a lowercase snake_case word and shown in title case."""

    @property
    def label(self) -> str:
        return _LABELS.get(self.value, self.value.replace("_", " ").title())

    def __str__(self) -> str:  # so f-strings and SQL parameters give the stored word
        return self.value


_LABELS = {"casl": "CASL", "campaign_evaluation_and_expire": "Campaign Evaluation and Expire"}


class RunPurpose(_Word):
    DEFAULT = "default"
    CAMPAIGN_SIMULATION = "campaign_simulation"
    CRITERION_STATS = "criterion_stats"
    CUSTOMER_EVALUATION = "customer_evaluation"
    CAMPAIGN_EVALUATION_AND_EXPIRE = "campaign_evaluation_and_expire"


class RunStatus(_Word):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ERROR = "error"
    CANCELED = "canceled"
    NOT_APPLICABLE = "not_applicable"

    @property
    def finished(self) -> bool:
        return self not in (RunStatus.SCHEDULED, RunStatus.IN_PROGRESS)


class RunStep(_Word):
    MAIN = "main"
    CRITERIONS = "criterions"
    ENROLLER_RUN_CUSTOMERS = "enroller_run_customers"
    CUSTOMER_VALIDATION = "customer_validation"
    CAMPAIGN_CUSTOMERS = "campaign_customers"


class EventLevel(_Word):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class PotentialStatus(_Word):
    SUCCESS = "success"
    ERROR = "error"
    PENDING = "pending"


class CampaignCustomerPurpose(_Word):
    DEFAULT = "default"
    RETURN_CALL = "return_call"
    RETURN_EMAIL = "return_email"
    RETURN_MESSAGE = "return_message"


class CampaignCustomerStatus(_Word):
    QUEUED = "queued"
    PENDING_DEPLOYMENT = "pending_deployment"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ERROR = "error"


#: Statuses that make an enrollment "active" for the Already in Queue check (RULES §3).
QUEUE_STATUSES = (
    CampaignCustomerStatus.QUEUED,
    CampaignCustomerStatus.PENDING_DEPLOYMENT,
    CampaignCustomerStatus.ASSIGNED,
    CampaignCustomerStatus.IN_PROGRESS,
)


class Expiration(_Word):
    CAMPAIGN_ENDED = "campaign_ended"
    AGED_OUT = "aged_out"
    NO_LONGER_QUALIFIES = "no_longer_qualifies"


class Check(_Word):
    """The checks of RULES §3, named as the potentials table's columns."""

    VALID_EMAIL = "valid_email"
    VALID_PHONE = "valid_phone"
    VALID_MESSAGE = "valid_message"
    DELETED = "deleted"
    UNIQUE_EVENT = "unique_event"
    ALREADY_IN_QUEUE = "already_in_queue"
    CASL = "casl"
    OPT_OUT_ALL = "opt_out_all"
    MARKETING_EXCLUSION = "marketing_exclusion"


CHANNEL_CHECKS = (Check.VALID_EMAIL, Check.VALID_PHONE, Check.VALID_MESSAGE)

#: A check's stored result (NULL where it does not apply).
PASSED = 1
FAILED = 0
