# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import defaultdict
from typing import NamedTuple

from odoo import api, models
from odoo.tools import SQL, clean_context, email_normalize
from odoo.tools.mail import generate_tracking_message_id

from ..tools.cron_batch import is_transient, run_isolated
from ..tools.reminder_batch import (
    ensure_access_tokens,
    ensure_main_attachments,
    ensure_signup_data,
    mail_references,
)
from .account_move_followup_delivery import FollowupSendError
from .ir_qweb import CompiledTemplates

_logger = logging.getLogger(__name__)

RENDERED_FIELDS = ('subject', 'body_html', 'email_from')


class ReminderPost(NamedTuple):
    """One reminder e-mail to post: on ``thread`` (an invoice), for ``logs`` (several when consolidated)."""

    logs: object
    thread: object
    recipient: object  # res.partner
    email: str  # where it goes: the customer's address, or the test address
    is_test: bool
    rendered: dict  # subject, body_html, email_from
    attachments: object  # ir.attachment
    header: bool  # the layout's header (title and button about one invoice)
LAYOUT = 'mail.mail_notification_layout_with_responsible_signature'


class InvoiceFollowupDelivery(models.AbstractModel):
    """Sends the queued reminders (``invoice.followup.log`` in state ``queued``), as many workers at once as run it.

    A worker claims a batch of the queue with ``FOR UPDATE SKIP LOCKED`` (the others skip it), checks each reminder
    again under that lock (paid, paused or bounced since it was planned: cancelled, with the reason), renders the
    e-mails one call per template, and creates their chatter messages, mails and notifications in bulk, with Odoo's
    own notification building blocks (``mail.thread._notify_by_email_*``): the invoice's chatter shows each
    reminder, the mail queue sends the e-mails after commit. One transaction per batch; a batch that fails is tried
    again reminder by reminder, so that one bad invoice never blocks the others.

    Why not ``message_post`` (the floor: ~40 queries and one render of everything per invoice) nor the composer's
    mass mailing (it does not log on the chatter) nor ``_message_log_batch`` (a note, no e-mail, no attachments):
    the same building blocks, each called once per batch where core calls them once per message.
    """

    _name = 'invoice.followup.delivery'
    _description = "Invoice Reminder Delivery"

    # -------------------------------------------------------------------------
    # THE WORKER LOOP
    # -------------------------------------------------------------------------

    @api.model
    def _deliver_queued(self, batch_size, log_ids=None):
        """Claim and send queued reminders, batch by batch, each batch committed; pass after pass while a pass
        sends something (what another worker held during a pass is claimed on the next one).

        :param log_ids: only these; else the whole queue
        :return: False when the cron's time budget is spent
        """
        if 'invoice_followup_qweb_memo' not in self.env.context:  # templates compiled once per run, not per batch
            return self.with_context(invoice_followup_qweb_memo=CompiledTemplates())._deliver_queued(
                batch_size, log_ids)
        cron = self.env['ir.cron']
        while True:
            last_customer, done_in_pass = 0, 0
            while rows := self._claim(batch_size, last_customer, log_ids):
                claimed = [log_id for log_id, _customer in rows]
                last_customer = rows[-1][1]
                claimed += self._claim_same_customers(claimed, log_ids)
                try:
                    self._deliver(self.env['invoice.followup.log'].browse(claimed))
                    self.env.flush_all()  # a conflict must surface here, not in the commit
                    done = len(claimed)
                except Exception as error:  # noqa: BLE001 - each reminder of the batch is tried on its own then
                    self.env.cr.rollback()
                    _logger.info("A batch of %s reminders failed (%s); sending them one by one", len(claimed), error)
                    done = 0
                    for log_id in claimed:
                        sent = self._deliver_one(log_id) is not False
                        done += sent
                        if not cron._commit_progress(int(sent)):
                            return False
                    done_in_pass += done
                    continue
                done_in_pass += done
                if not cron._commit_progress(done):
                    return False
            if not done_in_pass:
                return True

    @api.model
    def _claim(self, limit, after_customer=0, log_ids=None):
        """Lock the next ``limit`` queued reminders that no other worker holds, customer after customer (from the
        customer after ``after_customer``), with their invoices and customers (posting a reminder writes both:
        another worker reminding the same customer would conflict), skipping what another transaction holds.
        Whole customers, so that workers share the queue by customer and a batch is about ``limit`` reminders. The
        first statement of the batch's transaction, so that under REPEATABLE READ it sees every row as committed
        (see ``tools.cron_batch.lock_rows``).

        :return: [(log id, customer id)], in the customers' order
        """
        query = SQL(
            """SELECT log.id, move.commercial_partner_id FROM invoice_followup_log AS log
                 JOIN account_move AS move ON move.id = log.move_id
                 JOIN res_partner AS partner ON partner.id = move.partner_id
                 JOIN res_partner AS customer ON customer.id = move.commercial_partner_id
                WHERE log.state = 'queued' AND move.commercial_partner_id > %s %s
             ORDER BY move.commercial_partner_id, log.id LIMIT %s
                  FOR UPDATE OF log SKIP LOCKED
                  FOR NO KEY UPDATE OF move, partner, customer SKIP LOCKED""",
            after_customer, SQL("AND log.id IN %s", tuple(log_ids)) if log_ids else SQL(), limit)
        return self.env.execute_query(query)

    @api.model
    def _claim_same_customers(self, claimed, log_ids=None):
        """The other queued reminders of the claimed reminders' customers (locked with them already; the batch's
        limit may cut its last customer): a customer's reminders go out in one batch, so that one e-mail per customer
        stays one across batches' boundaries."""
        query = SQL(
            """SELECT log.id FROM invoice_followup_log AS log
                 JOIN account_move AS move ON move.id = log.move_id
                WHERE log.state = 'queued' AND log.id NOT IN %s %s
                  AND move.commercial_partner_id IN (
                      SELECT claimed_move.commercial_partner_id FROM invoice_followup_log AS claimed_log
                        JOIN account_move AS claimed_move ON claimed_move.id = claimed_log.move_id
                       WHERE claimed_log.id IN %s)
             ORDER BY log.id
                  FOR UPDATE OF log SKIP LOCKED
                  FOR NO KEY UPDATE OF move SKIP LOCKED""",
            tuple(claimed), SQL("AND log.id IN %s", tuple(log_ids)) if log_ids else SQL(), tuple(claimed))
        return [row[0] for row in self.env.execute_query(query)]

    @api.model
    def _deliver_one(self, log_id):
        """One reminder in its own transaction. A conflict or a timeout leaves it queued for later; any other error
        fails it once (its invoice goes in exception, a case opens)."""
        def work():
            if not self._claim(1, log_ids=[log_id]):
                return False
            self._deliver(self.env['invoice.followup.log'].browse(log_id))
            self.env.flush_all()
            return True

        def on_failure(error):
            self._fail(self.env['invoice.followup.log'].browse(log_id), error)

        return run_isolated(self.env, work, on_failure, f"Reminder {log_id}")

    @api.model
    def _fail(self, log, error):
        if log.state != 'queued':
            return
        log.move_id.with_company(log.company_id)._followup_mark_failed(None, None, log.date, error, log=log)

    # -------------------------------------------------------------------------
    # ONE BATCH
    # -------------------------------------------------------------------------

    @api.model
    def _deliver(self, logs):
        """Send these claimed reminders (one transaction, the caller commits). The engine's work, as superuser:
        whoever runs the job or clicked *Send Now* (who may write the invoice), logs are the engine's only."""
        if not self.env.su:
            return self.sudo()._deliver(logs)
        logs = logs.with_env(self.env)
        self.env['account.move']._followup_invalidate_invoice_data()  # what was cached before the claim
        for company, company_logs in logs.grouped('company_id').items():
            self.with_company(company)._deliver_company(company_logs.with_company(company), company)

    @api.model
    def _deliver_company(self, logs, company):
        today = company._followup_today()
        logs = self._cancel_stale(logs)
        if charged := logs.filtered(lambda log: log.step_id.late_fee_type != 'none'):
            charged.move_id._followup_charge_late_fees({log.move_id: log.step_id for log in charged}, today)
        for log in logs.filtered(lambda log: log.channel == 'activity'):
            move = log.move_id
            log.write(move._followup_schedule_activity(log.step_id, today, move._followup_amount_values(today)))
        emails = logs.filtered(lambda log: log.channel == 'email')
        if emails:
            self._send_emails(emails, company, today)
        if texts := logs.filtered(lambda log: log.channel == 'sms'):
            self._send_sms(texts, company, today)  # invoice_followup_delivery_sms.py
        sent = logs.move_id
        sent.filtered('followup_not_before').followup_not_before = False
        sent._followup_check_escalations()

    @api.model
    def _cancel_stale(self, logs):
        """Cancel the reminders no longer due (the invoice was paid, paused or its address bounced since planning),
        with the reason; return the others. A bounce opens its case, as the planner's hold would."""
        stale = defaultdict(lambda: self.env['invoice.followup.log'])
        for log in logs:
            if reason := self._stale_reason(log):
                stale[reason] |= log
        notes = self._stale_notes()
        for reason, reason_logs in stale.items():
            reason_logs.write({'state': 'cancel', 'note': notes[reason]})
        for move in stale.get('bounced', self.env['invoice.followup.log']).move_id:
            self.env['invoice.followup.case']._followup_open(move, 'bounce', body=self.env._(
                "Invoice %(invoice)s is not e-mailed: its address bounced.", invoice=move.name))
        return logs - self.env['invoice.followup.log'].union(*stale.values())

    @api.model
    def _stale_notes(self):
        """What a cancelled reminder's log says, by the reason ``_stale_reason`` gives."""
        return {
            'paid': self.env._("Paid before the reminder went out."),
            'paused': self.env._("Paused or in exception before the reminder went out."),
            'no_email': self.env._("No usable e-mail address any more."),
            'bounced': self.env._("The address bounced before the reminder went out."),
            'no_phone': self.env._("No usable mobile or phone number any more."),
        }

    @api.model
    def _stale_reason(self, log):
        """Why this claimed reminder is no longer due (a key of ``_stale_notes``), or False."""
        move = log.move_id
        state = move.followup_state
        if state == 'done':
            return 'paid'
        if state != 'active':
            return 'paused'
        if log.channel == 'sms':
            return self._sms_stale_reason(log)
        if log.channel != 'email' or log.is_test:
            return False
        recipient = move._followup_recipient()
        if not recipient or recipient.is_blacklisted:
            return 'no_email'
        if move._followup_recipient_bounced():
            return 'bounced'
        return False

    # -------------------------------------------------------------------------
    # E-MAILS
    # -------------------------------------------------------------------------

    @api.model
    def _send_emails(self, logs, company, today):
        moves = logs.move_id
        ensure_access_tokens(moves)  # the links of the e-mails embed them
        ensure_signup_data(moves.partner_id)
        pdfs = moves._followup_ensure_pdfs()
        ensure_main_attachments(moves)
        posts = []
        singles = logs
        if company.followup_consolidate:
            self.env['invoice.followup.statement']._prepare_pdfs(logs, company)  # several per call
            for _customer, group in logs.grouped(lambda log: log.move_id.commercial_partner_id).items():
                if len(group) > 1:
                    posts.append(self._consolidated_post(group, pdfs))
                    singles -= group
        by_template = singles.grouped(lambda log: log.step_id.mail_template_id)
        for template, template_logs in by_template.items():
            rendered = self._render(template, template_logs.move_id)
            for log in template_logs:
                move = log.move_id
                posts.append(ReminderPost(log, move, move._followup_recipient(), log.email_to, log.is_test,
                                          rendered[move.id], pdfs[move], True))
        messages, mails = self._post(posts)
        self._record_sent(posts, messages, mails, today)

    @api.model
    def _render(self, template, moves):
        """Subject, body and sender of ``template`` for each invoice, in its customer's language, in one call."""
        try:
            memo = self.env.context.get('invoice_followup_qweb_memo') or CompiledTemplates()
            return template.with_context(invoice_followup_qweb_memo=memo)._generate_template(
                moves.ids, RENDERED_FIELDS)
        except Exception as error:
            if is_transient(error) or len(moves) > 1:
                raise
            raise FollowupSendError(self.env._(
                "The template “%(template)s” could not be rendered: %(error)s", template=template.name, error=error,
            )) from error

    @api.model
    def _consolidated_post(self, logs, pdfs):
        """One e-mail for several invoices of a customer, with every PDF, posted on the oldest invoice (never on the
        customer, whose record every user of every company reads); the other invoices note where it is."""
        moves = logs.move_id.sorted(lambda move: (move.invoice_date_due, move.id))
        first = moves[0]
        partner = first.commercial_partner_id.with_context(invoice_followup_move_ids=moves.ids)
        template = self.env.ref('invoice_followup.mail_template_followup_consolidated').with_context(
            invoice_followup_move_ids=moves.ids)
        rendered = self._render(template, partner)[partner.id]
        attachments = self.env['ir.attachment'].union(
            *(pdfs[move] for move in moves), self.env['invoice.followup.statement']._attach_pdf(partner, first))
        main = logs.filtered(lambda log: log.move_id == first)[:1]
        return ReminderPost(logs, first, first._followup_recipient(), main.email_to, main.is_test, rendered,
                            attachments, header=False)

    @api.model
    def _post(self, posts):
        """Create the chatter messages, the e-mails to the customers and their notifications, each in one batch."""
        comment = self.env.ref('mail.mt_comment')
        note = self.env.ref('mail.mt_note')
        authors = {}
        for post in posts:
            email_from = post.rendered.get('email_from') or False
            if email_from not in authors:  # the partner message_post would look up, once per sender
                authors[email_from] = post.thread._message_compute_author(None, email_from)
        by_sender = defaultdict(list)
        for post in posts:
            by_sender[authors[post.rendered.get('email_from') or False]].append(post.thread)
        reply_to = {}  # the Reply-To message_post computes, in one call per sender for all its invoices
        for (author_id, email_from), threads in by_sender.items():
            threads = self.env['account.move'].union(*threads)
            for thread_id, address in threads._notify_get_reply_to(default=email_from, author_id=author_id).items():
                reply_to[author_id, email_from, thread_id] = address
        message_values = []
        for _logs, thread, recipient, _email, is_test, rendered, attachments, _header in posts:
            author_id, email_from = authors[rendered.get('email_from') or False]
            company = thread.company_id
            message_values.append({
                'model': thread._name, 'res_id': thread.id,
                'body': rendered.get('body_html') or '', 'subject': rendered.get('subject') or thread.display_name,
                'message_type': 'comment', 'subtype_id': (note if is_test else comment).id,
                'author_id': author_id, 'email_from': email_from,
                'partner_ids': [] if is_test else recipient.ids,
                'attachment_ids': attachments.ids, 'email_layout_xmlid': LAYOUT, 'email_add_signature': True,
                'record_company_id': company.id, 'record_alias_domain_id': company.alias_domain_id.id,
                'reply_to': reply_to[author_id, email_from, thread.id],
                'message_id': generate_tracking_message_id('message-notify'),
            })
        messages = self.env['account.move']._message_create(message_values)
        references = mail_references(messages)
        mail_values, notification_values = [], []
        for (logs, thread, recipient, email, is_test, _rendered, _pdf, header), message, msg_vals in zip(
                posts, messages, message_values, strict=True):
            thread = thread.with_context(email_notification_allow_header=header, email_notification_allow_footer=True)
            body = self._render_layout(thread, message, msg_vals, recipient)
            body = logs._followup_track_body(body)  # opens and clicks (invoice_followup_log_tracking.py)
            base = self._base_mail_values(thread, message, references[message])
            values = thread._notify_by_email_get_final_mail_values(
                [] if is_test else recipient.ids, base, additional_values={'body_html': body})
            if is_test:
                values['email_to'] = email
            mail_values.append(values)
        # Without the caller's default_* keys (a button's context), as core's notification creates its mails.
        safe_env = self.env(context=clean_context(self.env.context), su=True)
        mails = safe_env['mail.mail'].create(mail_values)
        for (_logs, thread, recipient, email, is_test, *_rest), message, mail in zip(
                posts, messages, mails, strict=True):
            target = {'mail_email_address': email} if is_test else {'res_partner_id': recipient.id}
            notification_values.append({
                **thread._notify_by_email_get_base_notification_values(message), 'mail_mail_id': mail.id, **target})
        safe_env['mail.notification'].create(notification_values)
        self._notify_followers(posts, messages, message_values)
        return messages, mails

    @api.model
    def _base_mail_values(self, thread, message, references):
        """Core's ``_notify_by_email_get_base_mail_values`` for a reminder, whose only recipient is the customer and
        which quotes no incoming addresses; its References come from ``mail_references``, one query per batch."""
        values = {'mail_message_id': message.id, 'references': references, 'auto_delete': False}
        subject = ' '.join((message.subject or '').splitlines())
        if subject != message.subject:
            values['subject'] = subject
        headers = {}
        if bounce_email := message.sudo().record_alias_domain_id.bounce_email:
            headers['Return-Path'] = bounce_email
        if headers := thread._notify_by_email_get_headers(headers=headers):
            values['headers'] = repr(headers)
        return values

    @api.model
    def _render_layout(self, thread, message, msg_vals, recipient):
        """The e-mail around the message body, as core's notification renders it for the customer."""
        lang = recipient.lang or self.env.lang
        thread = thread.with_context(lang=lang)
        recipients_data = [{
            'active': True, 'email_normalized': email_normalize(recipient.email or ''), 'id': recipient.id,
            'is_follower': False, 'lang': lang, 'name': recipient.name, 'groups': [], 'notif': 'email',
            'share': True, 'type': 'customer', 'uid': False, 'ushare': False,
        }] if recipient else []
        body = ''
        # A reminder tracks no field change: saying so spares core a search per message.
        msg_vals = {**msg_vals, 'partner_ids': recipient.ids, 'tracking_value_ids': []}
        for _lang, render_values, group in thread._notify_get_classified_recipients_iterator(
                message, recipients_data, msg_vals=msg_vals, model_description=thread.type_name):
            body = thread._notify_by_email_render_layout(message, group, msg_vals=msg_vals, render_values=render_values)
        return body or msg_vals['body']

    @api.model
    def _notify_followers(self, posts, messages, message_values):
        """Internal followers get a copy of each reminder only when the company asks for it."""
        for (_logs, thread, recipient, *_rest), message, msg_vals in zip(posts, messages, message_values,
                                                                          strict=True):
            if not thread.company_id.followup_notify_followers:
                continue
            followers = [data for data in thread._notify_get_recipients(message, msg_vals)
                         if data['id'] not in recipient.ids and not data['share']]
            if followers:
                thread._notify_thread_by_inbox(message, followers, msg_vals=msg_vals)
                thread._notify_thread_by_email(message, followers, msg_vals=msg_vals, force_send=False,
                                               model_description=thread.type_name)

    @api.model
    def _record_sent(self, posts, messages, mails, today):
        """The reminders are sent: their messages and customer e-mails on the logs, in one statement."""
        rows = []
        notes = defaultdict(list)
        for (logs, thread, _recipient, email, *_rest), message, mail in zip(posts, messages, mails, strict=True):
            for log in logs:
                amount = log.move_id._followup_amount_values(today)['amount']
                rows.append(SQL("(%s, %s, %s, %s, %s, %s)", log.id, message.id, message.message_id, mail.id,
                                email or mail.email_to or None, amount))
                if log.move_id != thread:
                    notes[thread].append(log)
        self.env.execute_query(SQL(
            "UPDATE invoice_followup_log AS log SET mail_message_id = v.message, message_id = v.message_id, "
            "mail_id = v.mail, email_to = v.email, amount_due = v.amount "
            "FROM (VALUES %s) AS v(id, message, message_id, mail, email, amount) WHERE log.id = v.id",
            SQL(", ").join(rows)))
        Log = self.env['invoice.followup.log']
        Log.invalidate_model(['mail_message_id', 'message_id', 'mail_id', 'email_to', 'amount_due'])
        Log.union(*(post.logs for post in posts)).write({'state': 'sent'})
        for first, others in notes.items():
            for log in others:
                log.move_id.message_post(body=self.env._(
                    "Reminder “%(step)s” sent to %(partner)s in one e-mail with their other invoices due today: "
                    "see %(invoice)s.", step=log.step_id.name, partner=first.commercial_partner_id.display_name,
                    invoice=first._get_html_link()))

    # -------------------------------------------------------------------------
    # ENTRY POINTS: the delivery jobs (crons) and Send Now
    # -------------------------------------------------------------------------

    @api.model
    def _deliver_now(self, logs):
        """*Send Now*: these freshly queued reminders, in the user's transaction (an error reaches the user)."""
        if logs:
            self._deliver(logs)

    @api.model
    def _cron_deliver(self, batch_size=None):
        """A delivery job: send the queue, sharing it with the other jobs running at the same time."""
        self.sudo()._queue_timed_steps(batch_size)
        remaining = self.env['invoice.followup.log'].sudo().search_count([('state', '=', 'queued')])
        self.env['ir.cron']._commit_progress(remaining=remaining)
        self.sudo()._run(batch_size)

    @api.model
    def _queue_timed_steps(self, batch_size=None):
        """Hourly: queue the steps sent at the customer's hour whose hour has come (the daily run queues the others,
        and holds these until then)."""
        if not self.env['invoice.followup.step'].search_count([('send_hour', '!=', False)], limit=1):
            return
        batch_size = batch_size or 200
        Queue = self.env['invoice.followup.queue']
        for company in self.env['res.company'].search([('followup_automation', '=', True)]):
            Queue.with_company(company)._queue_due(company, company._followup_today(), batch_size, timed_only=True)

    @api.model
    def _run(self, batch_size=None, trigger_jobs=False):
        """Deliver the queue, if any (and wake the other delivery jobs up to share it), then the mail queue."""
        batch_size = batch_size or int(
            self.env['ir.config_parameter'].sudo().get_param('invoice_followup.batch_size', 200)) or 200
        if not self.env['invoice.followup.log'].sudo().search_count([('state', '=', 'queued')], limit=1):
            return True
        if trigger_jobs:
            self._trigger_jobs()
            self.env['ir.cron']._commit_progress()  # the jobs start now, while this worker delivers too
        finished = self._deliver_queued(batch_size)
        self.env['invoice.followup.log']._followup_trigger_mail_queue()
        return finished

    @api.model
    def _delivery_jobs(self):
        """The delivery jobs: Odoo's cron records running ``_cron_deliver`` (one per parallel worker wanted)."""
        return self.env['ir.cron'].sudo().with_context(active_test=False).search(
            [('model_id.model', '=', self._name), ('code', '=', 'model._cron_deliver()')])

    @api.model
    def _trigger_jobs(self):
        """Wake every delivery job up once this transaction is committed: each claims its share of the queue."""
        for job in self._delivery_jobs().filtered('active'):
            job._trigger()

    @api.model
    def _set_job_count(self, count):
        """Keep ``count`` delivery jobs (at least one): copies of the shipped job, each run by its own cron worker."""
        count = max(count, 1)
        first = self.env.ref('invoice_followup.ir_cron_deliver_reminders').sudo()
        jobs = self._delivery_jobs().sorted('id')
        extra = jobs - first
        for index in range(len(extra) + 1, count):
            extra |= first.copy({'name': self.env._("%(name)s (job %(index)s)", name=first.name, index=index + 1),
                                 'active': first.active})
        (extra.sorted('id')[count - 1:]).unlink()
