# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import models

_logger = logging.getLogger(__name__)


class MailMail(models.Model):
    _inherit = 'mail.mail'

    def _send(self, auto_commit=False, raise_exception=False, smtp_session=None, alias_domain_id=False,
              mail_server=False, post_send_callback=None):
        # A reminder waits in the queue after its transaction: what happened to its invoices since then wins.
        stale = self._followup_stale_reminders()
        if stale:
            stale._followup_cancel_reminders()
        return super(MailMail, self - stale)._send(
            auto_commit=auto_commit, raise_exception=raise_exception, smtp_session=smtp_session,
            alias_domain_id=alias_domain_id, mail_server=mail_server, post_send_callback=post_send_callback)

    def _followup_logs(self):
        """The reminders whose e-mail to the customer these mails are (never a follower's copy). Reminders logged
        before the e-mail was recorded on them (an upgraded database) are found by their message."""
        return self.env['invoice.followup.log'].sudo().search([
            '|', ('mail_id', 'in', self.ids),
            '&', ('mail_id', '=', False), ('mail_message_id', 'in', self.mail_message_id.ids),
        ])

    def _followup_stale_reminders(self):
        """Reminder e-mails still waiting that must not leave: an invoice they ask for was paid, paused or put on a
        case meanwhile, or (a failed e-mail retried) their step was sent again since."""
        outgoing = self.filtered(lambda mail: mail.state == 'outgoing')
        logs = outgoing._followup_logs() if outgoing else self.env['invoice.followup.log']
        if not logs:
            return self.browse()
        free = logs.filtered(lambda log: log.state == 'failed')._followup_slot_free()
        stale_logs = logs.filtered(lambda log: log.state in ('sent', 'queued') and log.move_id.followup_state in (
            'done', 'paused', 'none') or (log.state == 'failed' and log not in free) or log.state == 'cancel')
        return stale_logs.mail_id

    def _followup_cancel_reminders(self):
        """Cancel these reminder e-mails and their reminders: the invoices still due are planned again."""
        logs = self._followup_logs()
        for log in logs.filtered(lambda log: log.state != 'failed'):
            state = log.move_id.followup_state
            note = (self.env._("Paid before the e-mail left.") if state == 'done'
                    else self.env._("Paused before the e-mail left.") if state == 'paused'
                    else self.env._("An invoice of the e-mail was paid or paused before it left."))
            log.write({'state': 'cancel', 'note': note})
        self.sudo().write({'state': 'cancel', 'failure_reason': self.env._("Reminder no longer due.")})
        self.env['mail.notification'].sudo().search([('mail_mail_id', 'in', self.ids)]).write(
            {'notification_status': 'canceled'})
        _logger.info("Reminder e-mails %s cancelled: no longer due", self.ids)

    def _postprocess_sent_message(self, success_pids, success_emails, failure_reason=False, failure_type=None):
        # Read the reminders before super(), which may delete auto-deleted mails.
        logs = self._followup_logs()
        if logs:
            reason = failure_reason
            if failure_type and not reason:  # a failed SMTP connection reports it on the mails only
                reason = next(filter(None, self.sudo().mapped('failure_reason')), False)
            logs._followup_update_delivery(failure_type, reason)
        return super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type)
