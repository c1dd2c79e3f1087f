# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, models

from odoo.addons.sms.tools.sms_tools import sms_content_to_rendered_html

from ..tools.cron_batch import is_transient
from ..tools.reminder_batch import ensure_access_tokens
from .account_move_followup_delivery import FollowupSendError


class InvoiceFollowupDelivery(models.AbstractModel):
    """SMS reminders (an SMS step, or an e-mail step's SMS fallback), with Odoo's own SMS: each is posted on its
    invoice's chatter as an SMS message (as ``mail.thread._message_sms`` does), with its ``sms.sms`` and its SMS
    notification and tracker (as ``_notify_thread_by_sms`` does), all created in one batch, in the transaction that
    marks the reminder sent. The SMS queue (``sms.sms._process_queue``, woken up by the SMS's creation) sends them
    once committed: a rolled-back batch never texted anyone, and the unique key of the log keeps the step once.
    What the provider answers (an error now, a failed delivery report later) reaches the log through
    ``sms.tracker`` (see ``sms_tracker.py``)."""

    _inherit = 'invoice.followup.delivery'

    @api.model
    def _send_sms(self, logs, company, today):
        moves = logs.move_id
        ensure_access_tokens(moves)  # the self-service link of the SMS embeds them
        texts = {}
        for template, template_logs in logs.grouped(lambda log: log.step_id.sms_template_id).items():
            texts.update(self._render_sms(template, template_logs.move_id))
        note = self.env.ref('mail.mt_note')
        authors = {}
        message_values, targets = [], []
        for log in logs:
            move = log.move_id
            partner, number = move._followup_sms_recipient()
            email_from = move.followup_email_from or False
            if email_from not in authors:  # the reminder e-mails' sender, looked up once per sender
                authors[email_from] = move._message_compute_author(None, email_from)
            author_id, email_from = authors[email_from]
            targets.append((partner, number))
            message_values.append({
                'model': move._name, 'res_id': move.id, 'body': sms_content_to_rendered_html(texts[move.id]),
                'message_type': 'sms', 'subtype_id': note.id, 'author_id': author_id, 'email_from': email_from,
                'partner_ids': [] if log.is_test else partner.ids, 'record_company_id': company.id,
            })
        messages = self.env['account.move']._message_create(message_values)
        to_text = [(log, message, partner, number) for log, message, (partner, number)
                   in zip(logs, messages, targets, strict=True) if not log.is_test]
        sms_records = self.env['sms.sms'].sudo().create([{
            'body': texts[log.move_id.id], 'mail_message_id': message.id, 'partner_id': partner.id,
            'number': number, 'state': 'outgoing',
        } for log, message, partner, number in to_text])
        notifications = self.env['mail.notification'].sudo().create([{
            'author_id': message.author_id.id, 'mail_message_id': message.id, 'res_partner_id': partner.id,
            'sms_number': number, 'notification_type': 'sms', 'sms_id_int': sms.id, 'is_read': True,
            'notification_status': 'ready', 'sms_tracker_ids': [Command.create({'sms_uuid': sms.uuid})],
        } for (_log, message, partner, number), sms in zip(to_text, sms_records, strict=True)])
        notification_of = {log: notification for (log, *_rest), notification
                           in zip(to_text, notifications, strict=True)}
        for log, message, (_partner, number) in zip(logs, messages, targets, strict=True):
            log.write({
                'state': 'sent', 'mail_message_id': message.id, 'sms_number': number,
                'sms_notification_id': notification_of[log].id if log in notification_of else False,
                'amount_due': log.move_id._followup_amount_values(today)['amount'],
                'note': self.env._("Test mode: logged on the invoice, not texted.") if log.is_test else log.note,
            })

    @api.model
    def _render_sms(self, template, moves):
        """The text of ``template`` for each invoice, in its customer's language, in one call."""
        try:
            return template._render_field('body', moves.ids, compute_lang=True)
        except Exception as error:
            if is_transient(error) or len(moves) > 1:
                raise
            raise FollowupSendError(self.env._(
                "The SMS template “%(template)s” could not be rendered: %(error)s", template=template.name, error=error,
            )) from error

    @api.model
    def _sms_stale_reason(self, log):
        """An SMS reminder checked again under lock (after the invoice's paid or paused checks): its customer has
        no usable number any more."""
        if log.is_test or log.move_id._followup_sms_recipient()[1]:
            return False
        return 'no_phone'
