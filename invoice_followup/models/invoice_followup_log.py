# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.tools import email_normalize

from ..const import STEP_CHANNELS

_logger = logging.getLogger(__name__)


class InvoiceFollowupLog(models.Model):
    """One reminder of one invoice: the outbox row that makes sending idempotent.

    The unique index on (move, step, cycle) is the durable "already done" marker: it is written in the
    same transaction as the chatter message (and its queued mail), so a rollback leaves neither.

    Only the engine writes logs (``_followup_record`` and the delivery hooks below, as superuser); people read
    them (see security/ir.model.access.csv): a row written by hand would silence or replay a step.
    """

    _name = 'invoice.followup.log'
    _description = "Invoice Reminder"
    _order = 'date desc, id desc'
    _rec_name = 'move_id'
    # No automatic company check on create: only the engine writes logs, each from an invoice and a step of that
    # invoice's own policy; checking every row again cost the queue more than writing it.

    move_id = fields.Many2one(
        'account.move', string="Invoice", required=True, index=True, ondelete='cascade', check_company=True)
    company_id = fields.Many2one(related='move_id.company_id', store=True, index=True, precompute=True)
    partner_id = fields.Many2one(
        related='move_id.commercial_partner_id', string="Customer", store=True, index=True, precompute=True)
    step_id = fields.Many2one(
        'invoice.followup.step', string="Step", required=True, ondelete='restrict', check_company=True)
    policy_id = fields.Many2one(related='step_id.policy_id', store=True)
    cycle_key = fields.Date(
        string="Installment Due Date",
        required=True,
        help="Due date of the installment this reminder was about: one reminder per step and installment.",
    )
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    # The channel the reminder actually went by: the step's, or SMS for an e-mail step's SMS fallback (see the planner).
    channel = fields.Selection(STEP_CHANNELS, compute='_compute_channel', store=True, readonly=False, precompute=True)
    state = fields.Selection(
        [
            ('queued', "Queued"),
            ('sent', "Sent"),
            ('scheduled', "Activity scheduled"),
            ('skipped', "Skipped"),
            ('failed', "Failed"),
            ('bounced', "Bounced"),
            ('cancel', "Cancelled"),
        ],
        required=True,
        default='sent',
        index=True,
    )
    note = fields.Char(help="Why the step was skipped, or what failed.")
    amount_due = fields.Monetary(currency_field='currency_id')
    currency_id = fields.Many2one('res.currency', required=True)
    mail_message_id = fields.Many2one('mail.message', string="Message", index='btree_not_null', ondelete='set null')
    # The e-mail to the customer: its delivery (not a follower's copy) decides whether the reminder was sent,
    # failed or bounced.
    mail_id = fields.Many2one(
        'mail.mail', string="E-mail", index='btree_not_null', ondelete='set null', export_string_translation=False)
    email_to = fields.Char(string="Sent To", readonly=True)
    message_id = fields.Char(string="Message-Id", index='btree_not_null', readonly=True)
    activity_id = fields.Many2one('mail.activity', string="Activity", ondelete='set null')
    is_test = fields.Boolean(string="Test Mode", help="Sent to the test address instead of the customer.")
    # An SMS reminder: the number texted and the SMS notification, whose status the SMS provider's answers
    # update (``sms.tracker``): a failure fails the reminder as a failed e-mail does.
    sms_number = fields.Char(string="Texted To", readonly=True)
    # The notification outlives its sms.sms (deleted once sent): the provider's delivery reports update it.
    sms_notification_id = fields.Many2one(
        'mail.notification', string="SMS Notification", index='btree_not_null', ondelete='set null', readonly=True,
        export_string_translation=False)

    # Failed attempts do not hold the slot: once a person fixes the cause, the step goes out once.
    _unique_step_per_cycle = models.UniqueIndex(
        "(move_id, step_id, cycle_key) WHERE state NOT IN ('cancel', 'failed')",
        "This reminder was already sent for this installment of the invoice.",
    )
    # The delivery workers' queue: a small index however long the history grows.
    _queued_index = models.Index("(id) WHERE state = 'queued'")

    @api.depends('step_id')  # not the step's channel: a later change of the step does not rewrite history
    def _compute_channel(self):
        for log in self:
            log.channel = log.channel or log.step_id.channel

    @api.depends('move_id', 'step_id')
    def _compute_display_name(self):
        for log in self:
            log.display_name = f"{log.move_id.name or ''} – {log.step_id.name or ''}"

    def action_open_move(self):
        self.ensure_one()
        return self.move_id._get_records_action()

    @api.model
    def _followup_record(self, vals_list):
        """Write reminder logs for the engine, whoever runs it (users may only read logs)."""
        return self.sudo().create(vals_list).with_env(self.env)

    @api.model
    def _followup_trigger_mail_queue(self):
        """Reminders are queued, not sent inline: wake the mail queue up once the transaction is committed."""
        cron = self.env.ref('mail.ir_cron_mail_scheduler_action', raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()

    def _followup_update_delivery(self, failure_type, failure_reason):
        """The mail queue reports on the customer's e-mail of these reminders: a failure puts their invoices in
        exception and opens a failure case (a person must look at it); a later success (an administrator retried
        the mail) closes that exception, and the case once none of its invoices is left in exception.

        A retried mail whose step was sent again meanwhile (the failure freed its slot) stays failed: the step
        went out once. The engine's bookkeeping, as superuser: whoever's mail queue run reports it."""
        logs = self.sudo()
        Case = self.env['invoice.followup.case'].sudo()
        if failure_type:
            failed = logs.filtered(lambda log: log.state in ('sent', 'queued'))
            reason = failure_reason or failure_type or ''
            for log in failed:
                log.write({'state': 'failed', 'note': reason[:250]})
                log.move_id.write({'followup_error': self.env._(
                    "The reminder “%(step)s” could not be delivered: %(reason)s", step=log.step_id.name,
                    reason=reason)})
                _logger.warning("Reminder %s of invoice %s could not be delivered: %s", log.id, log.move_id.id, reason)
            for moves in failed.move_id.grouped(lambda move: (move.commercial_partner_id, move.company_id)).values():
                Case._followup_open(moves, 'failure', body=self.env._(
                    "The reminder of %(invoices)s could not be delivered: %(reason)s",
                    invoices=moves.mapped('name'), reason=reason))
            return
        recovered = logs.filtered(lambda log: log.state == 'failed')._followup_slot_free()
        for log in recovered:
            log.write({'state': 'sent', 'note': False})
            log.move_id.followup_error = False
        if recovered:
            cases = Case.search(
                [('move_ids', 'in', recovered.move_id.ids), ('reason', '=', 'failure'), ('is_open', '=', True)])
            if done := cases.filtered(lambda case: 'exception' not in case.move_ids.mapped('followup_state')):
                done.action_resolve()

    def _followup_slot_free(self):
        """Those of these reminders whose step and installment no other reminder holds (sent again meanwhile)."""
        if not self:
            return self
        holders = self.search([
            ('move_id', 'in', self.move_id.ids), ('state', 'not in', ('cancel', 'failed')), ('id', 'not in', self.ids),
        ])
        taken = {(log.move_id.id, log.step_id.id, log.cycle_key) for log in holders}
        return self.filtered(lambda log: (log.move_id.id, log.step_id.id, log.cycle_key) not in taken)

    def _followup_mark_bounced(self, bounced_email):
        """The customer's address of these reminders bounced: their invoices pause on a bounce case until the address
        changes. A follower's bounce is not the customer's: only reminders sent to ``bounced_email`` are marked.
        The engine's bookkeeping, as superuser: whoever's incoming mail reports the bounce."""
        bounced = email_normalize(bounced_email or '')
        logs = self.sudo().filtered(
            lambda log: not bounced or not log.email_to or email_normalize(log.email_to) == bounced)
        if not logs:
            return logs
        logs.write({'state': 'bounced', 'note': self.env._("Bounced: %(email)s", email=bounced_email or '')})
        for partner, partner_logs in logs.grouped(lambda log: log.move_id.commercial_partner_id).items():
            if bounced and not any(log.is_test for log in partner_logs):
                partner.followup_bounced_email = bounced
            for company_moves in partner_logs.move_id.grouped('company_id').values():
                self.env['invoice.followup.case'].sudo()._followup_open(company_moves, 'bounce', body=self.env._(
                    "The reminder to %(email)s bounced.", email=bounced_email or partner.email or ''))
        return logs

    def _followup_update_sms_delivery(self, notification_status, failure_type, failure_reason):
        """The SMS provider reports on the SMS of these reminders (``sms.tracker``): an error or a bounce (wrong
        number, no credit, undeliverable) fails them as a failed e-mail does; a later success (an SMS sent again
        from Odoo's SMS menu) recovers them."""
        if notification_status in ('exception', 'bounce'):
            labels = dict(self.env['mail.notification']._fields['failure_type']._description_selection(self.env))
            reason = failure_reason or labels.get(failure_type) or failure_type or notification_status
            self._followup_update_delivery(failure_type or 'unknown', self.env._(
                "SMS to %(number)s: %(reason)s", number=', '.join(filter(None, set(self.mapped('sms_number')))),
                reason=reason))
        elif notification_status in ('pending', 'sent'):
            self._followup_update_delivery(False, False)
