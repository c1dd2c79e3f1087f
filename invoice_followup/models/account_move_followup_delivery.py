# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import email_normalize, split_every

from ..tools.reminder_batch import can_batch_pdf
from .ir_actions_report import PDF_DOCUMENTS_PER_CALL

_logger = logging.getLogger(__name__)

# What may change under a running cron and decides whether an invoice is reminded: re-read after its lock
# (model: its fields, None for all of them). Of the customer, what decides whether and where a reminder goes.
FRESH_AFTER_LOCK = {
    'account.move': None, 'account.move.line': None, 'account.partial.reconcile': None,
    'invoice.followup.log': None, 'invoice.followup.case': None, 'invoice.followup.case.answer': None,
    'mail.activity': None,
    'res.partner': ['email', 'email_normalized', 'is_blacklisted', 'message_bounce', 'followup_bounced_email',
                    'followup_excluded', 'followup_strategic', 'phone'],
}


class FollowupSendError(UserError):
    """A reminder could not go out for a reason a person must fix (no address, template error...)."""


class FollowupNoAddressError(FollowupSendError):
    """The customer has no usable e-mail address."""

    case_reason = 'no_email'


class InvoiceFollowupDeliveryMixin(models.AbstractModel):
    """Part of ``account.move`` (which inherits it), in a file of its own: what the reminder services
    (``invoice.followup.planner``, ``.queue``, ``.delivery``) ask of one invoice: who receives its reminder, its PDF,
    its activity step, and its failure. ``self`` is always an invoice."""

    _name = 'invoice.followup.delivery.mixin'
    _description = "Invoice: Reminder Delivery"

    def _followup_recipient(self):
        """The partner who receives the reminder: the invoice address if it has an e-mail, else the customer."""
        self.ensure_one()
        for partner in (self.partner_id, self.commercial_partner_id):
            if email_normalize(partner.email or ''):
                return partner
        return self.env['res.partner']

    def _followup_recipient_error(self, hold):
        """The error a reminder without a usable address fails with (planner hold ``no_email`` or ``blacklisted``)."""
        self.ensure_one()
        if hold == 'blacklisted':
            return FollowupSendError(self.env._(
                "The e-mail address %(email)s is blacklisted (it bounced or unsubscribed).",
                email=self._followup_recipient().email))
        return FollowupNoAddressError(self.env._(
            "%(partner)s has no valid e-mail address.", partner=self.partner_id.display_name))

    def _followup_ensure_pdfs(self):
        """Return {move: attachment} with each invoice's PDF, rendering only the missing ones, several per call."""
        missing = self.filtered(lambda move: not move.invoice_pdf_report_id)
        if missing:
            sender = self.env['account.move.send'].with_context(followup_invoice_pdf=True)  # see ir_actions_report
            invoices_data = {
                move: {'pdf_report': sender._get_default_pdf_report_id(move)} for move in missing
            }
            # wkhtmltopdf built on unpatched Qt (Debian's) renders a single document per call.
            per_call = PDF_DOCUMENTS_PER_CALL if can_batch_pdf(self.env) else 1
            for company, moves in missing.grouped('company_id').items():
                for chunk in split_every(per_call, moves):
                    batch = {move: invoices_data[move] for move in chunk}
                    sender.with_company(company)._prepare_invoice_pdf_report(batch)
                    sender._link_invoice_documents(batch)
        return {move: move.invoice_pdf_report_id for move in self}

    def _followup_schedule_activity(self, step, today, amounts):
        """An activity step: a to-do for the collector, else the salesperson, else the company's (never OdooBot)."""
        collector = step.policy_id.collector_id
        user = collector if collector and collector._followup_is_person() else (
            self.followup_salesperson_id or self.company_id._followup_responsible())
        activity = self.activity_schedule(
            activity_type_id=step.activity_type_id.id,
            date_deadline=today,
            summary=self.env._(
                "%(step)s: %(amount)s due", step=step.name, amount=self.currency_id.format(amounts['amount'])),
            note=step.activity_note,
            user_id=user.id,
        )
        return {'state': 'scheduled', 'activity_id': activity.id}

    def _followup_mark_failed(self, step, cycle_date, today, error, log=None):
        """Record a failed step (``log``: the queued reminder that failed) and put the invoice in exception, out of
        the cron's way until a person acts. Once: an invoice in exception is not planned again."""
        self.ensure_one()
        message = str(error.args[0]) if isinstance(error, UserError) and error.args else str(error)
        _logger.warning("The reminder of invoice %s (id %s) failed: %s", self.name, self.id, message)
        if log:
            log.sudo().write({'state': 'failed', 'note': message[:250]})
        elif step:
            self.env['invoice.followup.log']._followup_record({
                'move_id': self.id, 'step_id': step.id, 'cycle_key': cycle_date, 'date': today,
                'state': 'failed', 'note': message[:250], 'currency_id': self.currency_id.id,
                'amount_due': self.amount_residual,
            })
        self.sudo().followup_error = message
        # The reason (an SMTP reply, a template error) stays on the invoice's error field and the case, which only
        # accountants read: the chatter is read by every internal user who may open the invoice.
        self.message_post(body=self.env._(
            "Automatic reminder failed: reminders are stopped until the cause shown on the invoice is fixed."))
        reason = getattr(error, 'case_reason', 'failure')  # FollowupNoAddressError: no_email; no phone: no_phone
        self.env['invoice.followup.case']._followup_open(self, reason, body=message)

    def _followup_invalidate_invoice_data(self):
        """Forget what the cache knows of invoices and of what decides their reminders (payments, logs, cases, the
        customer's address and bounces), so that they are read again; companies, policies and templates stay
        cached for the whole run."""
        for model, fnames in FRESH_AFTER_LOCK.items():
            self.env[model].invalidate_model(fnames)
