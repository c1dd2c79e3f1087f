# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Constants shared by several models of the add-on (no model here: any module may import this one)."""
from typing import NamedTuple

# The channels a step reaches the customer by, and a reminder log records (the channel actually used).
STEP_CHANNELS = [('email', "E-mail"), ('activity', "Call / to-do"), ('sms', "SMS")]

# Who reads an invoice's reminder history, cases and delivery errors: billing users and read-only accountants.
# Others who may open the invoice (salesmen, project users, portal users) do not see them.
FOLLOWUP_READERS = 'account.group_account_invoice,account.group_account_readonly'


class CaseReason(NamedTuple):
    """What a collection case of one reason does (see ``CASE_REASON_TABLE``)."""

    label: str
    pauses: bool = False  # while open, the reminders of its invoices are paused
    person_resumes: bool = False  # ... and only a person ends that pause (no date does)
    closes_when_paid: bool = False  # closes itself once its invoices are paid (the cron's first task)
    clears_exception: bool = False  # resolved, its invoices leave the exception and resume
    urgent: bool = False  # opens with a high priority
    color: int = 0  # of its card on the collections board


# The reasons a collection case is opened for, in the order of the field's selection, and their behaviour:
# the one place to read or change what a reason does.
CASE_REASON_TABLE = {
    'dispute': CaseReason(
        "Dispute", pauses=True, person_resumes=True, closes_when_paid=True, urgent=True, color=1),
    'promise': CaseReason("Promise to pay", pauses=True, closes_when_paid=True),
    'payment_plan': CaseReason("Payment plan", pauses=True, closes_when_paid=True),
    'bounce': CaseReason("E-mail bounced", pauses=True, person_resumes=True, clears_exception=True, color=9),
    'no_email': CaseReason("No e-mail address", clears_exception=True, color=9),
    'no_phone': CaseReason("No mobile number", clears_exception=True, color=9),
    'max_reminders': CaseReason("Reminded too often", closes_when_paid=True),
    'high_value': CaseReason(
        "Strategic / high value", pauses=True, person_resumes=True, closes_when_paid=True, urgent=True),
    'failure': CaseReason("Sending failed", clears_exception=True, color=9),
    'broken_promise': CaseReason("Broken promise", closes_when_paid=True, urgent=True, color=2),
    'partial_payments': CaseReason("Repeated partial payments", closes_when_paid=True),
    'milestone_unreached': CaseReason("Milestone no longer reached", pauses=True, person_resumes=True),
    'customer_reply': CaseReason(
        "Customer replied", pauses=True, person_resumes=True, closes_when_paid=True, color=4),
    # The customer paid (or was credited) without the payment being matched to the invoice: a person reconciles.
    'unapplied_payment': CaseReason("Unapplied payment", closes_when_paid=True, urgent=True, color=4),
}


def _case_reasons(attribute):
    return tuple(reason for reason, row in CASE_REASON_TABLE.items() if getattr(row, attribute))


CASE_REASONS = [(reason, row.label) for reason, row in CASE_REASON_TABLE.items()]
PAUSING_REASONS = _case_reasons('pauses')
WAITING_FOR_A_PERSON = _case_reasons('person_resumes')
CLOSED_WHEN_PAID_REASONS = _case_reasons('closes_when_paid')
CLEARS_EXCEPTION_REASONS = _case_reasons('clears_exception')
URGENT_REASONS = _case_reasons('urgent')
