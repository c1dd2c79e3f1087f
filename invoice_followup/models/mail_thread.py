# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
import unicodedata

from odoo import models
from odoo.tools.mail import decode_message_header, email_split

# What marks an incoming e-mail as written by a program, not a person: RFC 3834's Auto-Submitted, the headers
# auto-responders use instead, a return path no answer may go to (bounces, notifications), a mailer daemon.
AUTOMATIC_HEADERS = ('X-Autoreply', 'X-Autorespond')
AUTOMATIC_PRECEDENCES = ('bulk', 'auto_reply', 'junk', 'list')
AUTOMATIC_SENDERS = ('mailer-daemon', 'postmaster')
# Subjects of out-of-office answers as the usual mail clients write them, in English, German, French, Spanish,
# Italian, Dutch and Portuguese; matched without case or accents.
OUT_OF_OFFICE_SUBJECT = re.compile('|'.join((
    r'^\s*auto\s*:',
    r'\bauto(matic)?[\s-]?(reply|response)\b',
    r'\bout of (the )?office\b',
    r'\bautomatische antwort\b', r'\babwesenheit', r'\bnicht im buro\b',
    r'\breponse automatique\b', r'\babsen(t|ce) du bureau\b', r"\bmessage d'absence\b",
    r'\brespuesta automatica\b', r'\bfuera de (la )?oficina\b',
    r'\brisposta automatica\b', r'\bfuori (ufficio|sede)\b',
    r'\bautomatisch antwoord\b', r'\bafwezig',
    r'\bresposta automatica\b', r'\bfora do escritorio\b',
)))


def _header(message, name):
    return (decode_message_header(message, name) or '').strip().lower()


def is_automatic_reply(message, message_dict):
    """Whether an incoming e-mail was sent by a program (auto-reply, out of office, bounce), not by a person.

    :param message: the e-mail as received (``email.message.EmailMessage``), for its headers
    :param message_dict: the gateway's parsed values (``mail.thread.message_parse``)
    """
    if message_dict.get('is_bounce'):  # Odoo's gateway recognised a bounce (and routes it nowhere)
        return True
    auto_submitted = _header(message, 'Auto-Submitted').split(';')[0].strip()
    if auto_submitted and auto_submitted != 'no':
        return True
    if any(_header(message, name) not in ('', 'no') for name in AUTOMATIC_HEADERS):
        return True
    if _header(message, 'Precedence') in AUTOMATIC_PRECEDENCES:
        return True
    if _header(message, 'Return-Path') == '<>':
        return True
    sender = (email_split(message_dict.get('email_from') or '') or [''])[0]
    if sender.split('@')[0].lower() in AUTOMATIC_SENDERS:
        return True
    subject = unicodedata.normalize('NFKD', message_dict.get('subject') or '')
    subject = ''.join(char for char in subject if not unicodedata.combining(char)).lower()
    return bool(OUT_OF_OFFICE_SUBJECT.search(subject))


class MailThread(models.AbstractModel):
    _inherit = 'mail.thread'

    def _routing_handle_bounce(self, email_message, message_dict):
        """A bounce that answers one of our reminders: mark that reminder bounced, stop e-mailing the address and
        open a case. The bounce is matched on the reminder's own message, so other invoices stay untouched."""
        super()._routing_handle_bounce(email_message, message_dict)
        bounced_message = message_dict.get('bounced_message')
        if not bounced_message:
            return
        logs = self.env['invoice.followup.log'].sudo().search([
            ('mail_message_id', 'in', bounced_message.ids), ('state', 'in', ('sent', 'failed'))])
        if logs:
            logs._followup_mark_bounced(message_dict.get('bounced_email'))

    def _message_route_process(self, message, message_dict, routes):
        """An e-mail answering one of our reminders: the reminders of the invoices that e-mail was about pause and
        a person reads the answer on a case (see ``account.move._followup_on_customer_reply``).

        Hooked here rather than in ``message_update`` or ``_message_post_after_hook``: this is the only step of
        the gateway that has both the e-mail's headers (Auto-Submitted, Precedence, Return-Path: ``message_parse``
        drops them) and the message it answers, and it runs for incoming e-mail only, never for a note or a
        message an employee posts in the chatter. The answer is matched on the reminder's own message, like a
        bounce, so a consolidated reminder pauses every invoice it covered and only those.
        """
        parent_id = message_dict.get('parent_id')
        thread_id = super()._message_route_process(message, message_dict, routes)
        if routes and parent_id and not is_automatic_reply(message, message_dict):
            self._followup_handle_reply(parent_id, message_dict)
        return thread_id

    def _followup_handle_reply(self, parent_id, message_dict):
        """The reminders the answer belongs to: those whose e-mail it answers (one e-mail, several invoices when
        it was consolidated)."""
        logs = self.env['invoice.followup.log'].sudo().search(
            [('mail_message_id', '=', parent_id), ('state', '!=', 'cancel')])
        if not logs:
            return
        reply = self.env['mail.message'].sudo().search(
            [('message_id', '=', message_dict['message_id'])], order='id desc', limit=1)
        author = self.env['res.partner'].sudo().browse(message_dict.get('author_id')).exists()
        logs.move_id._followup_on_customer_reply(reply, author, message_dict.get('email_from'))
