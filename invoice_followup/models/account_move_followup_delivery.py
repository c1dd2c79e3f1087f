# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import defaultdict

from odoo import api, models
from odoo.exceptions import UserError
from odoo.fields import Command, Domain
from odoo.tools import email_normalize, split_every

from .cron_batch import lock_rows, run_in_batches, run_isolated
from .ir_actions_report import PDF_DOCUMENTS_PER_CALL
from .reminder_batch import prepare_batch

_logger = logging.getLogger(__name__)

RENDERED_FIELDS = ('subject', 'body_html', 'email_from')
# What may change under a running cron and decides whether an invoice is reminded: re-read after its lock
# (model: its fields, None for all of them). Of the customer, what decides whether and where a reminder goes.
FRESH_AFTER_LOCK = {
    'account.move': None, 'account.move.line': None, 'account.partial.reconcile': None,
    'invoice.followup.log': None, 'invoice.followup.case': None, 'mail.activity': None,
    'res.partner': ['email', 'email_normalized', 'is_blacklisted', 'message_bounce', 'followup_bounced_email',
                    'followup_excluded', 'followup_strategic'],
}


class FollowupSendError(UserError):
    """A reminder could not go out for a reason a person must fix (no address, template error...)."""


class FollowupNoAddressError(FollowupSendError):
    """The customer has no usable e-mail address."""


class InvoiceFollowupDeliveryMixin(models.AbstractModel):
    """Part of ``account.move`` (which inherits it), in a file of its own: carrying out a reminder step (e-mail or
    activity) and logging it, rendering and posting the e-mail, one e-mail for several invoices, failures, and
    the cron's batches of due invoices, one transaction per invoice. ``self`` is always an invoice."""

    _name = 'invoice.followup.delivery.mixin'
    _description = "Invoice: Reminder Delivery"

    # -------------------------------------------------------------------------
    # CARRYING OUT A STEP
    # -------------------------------------------------------------------------

    def _followup_recipient(self):
        """The partner who receives the reminder: the invoice address if it has an e-mail, else the customer."""
        self.ensure_one()
        for partner in (self.partner_id, self.commercial_partner_id):
            if email_normalize(partner.email or ''):
                return partner
        return self.env['res.partner']

    def _followup_ensure_pdfs(self):
        """Return {move: attachment} with each invoice's PDF, rendering only the missing ones, in one batch."""
        missing = self.filtered(lambda move: not move.invoice_pdf_report_id)
        if missing:
            sender = self.env['account.move.send'].with_context(followup_invoice_pdf=True)  # see ir_actions_report
            invoices_data = {
                move: {'pdf_report': sender._get_default_pdf_report_id(move)} for move in missing
            }
            for company, moves in missing.grouped('company_id').items():
                for chunk in split_every(PDF_DOCUMENTS_PER_CALL, moves):
                    batch = {move: invoices_data[move] for move in chunk}
                    sender.with_company(company)._prepare_invoice_pdf_report(batch)
                    sender._link_invoice_documents(batch)
        return {move: move.invoice_pdf_report_id for move in self}

    def _followup_run_step(self, step, cycle_date, today, superseded=None, pdf=None, message=None, is_test=False,
                           prerendered=None):
        """Carry out one step on this invoice and log it (and the steps it supersedes) in the same transaction.

        :param prerendered: the e-mail as rendered with its batch (see ``_followup_prerender``), if any

        :raise FollowupSendError: when the reminder cannot go out; nothing is written then.
        """
        self.ensure_one()
        Log = self.env['invoice.followup.log']
        amounts = self._followup_amount_values(today)
        base_vals = {
            'move_id': self.id, 'cycle_key': cycle_date, 'date': today,
            'amount_due': amounts['amount'], 'currency_id': self.currency_id.id,
        }
        if superseded:
            Log._followup_record([{
                **base_vals, 'step_id': skipped.id, 'state': 'skipped',
                'note': self.env._("Superseded by the later step “%(step)s”.", step=step.name),
            } for skipped in superseded])
        if message:  # already sent, consolidated with other invoices
            vals = {'state': 'sent', 'mail_message_id': message.id, 'message_id': message.message_id,
                    'is_test': is_test}
        elif step.channel == 'activity':
            vals = self._followup_schedule_activity(step, today, amounts)
        else:
            vals = self._followup_send_email(step, pdf=pdf, prerendered=prerendered)
        log = Log._followup_record({**base_vals, 'step_id': step.id, **vals})
        if self.followup_not_before:
            self.followup_not_before = False
        self._followup_check_escalations()
        return log

    def _followup_schedule_activity(self, step, today, amounts):
        collector = step.policy_id.collector_id  # else the salesperson, else the company's: never OdooBot
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

    def _followup_send_email(self, step, pdf=None, prerendered=None):
        """Post the step's template on the chatter as an e-mail to the customer (queued, sent after commit)."""
        self.ensure_one()
        recipient, test_address = self._followup_check_recipient()
        template = step.mail_template_id
        if prerendered and prerendered[0] == template and prerendered[1] == self._followup_render_key():
            rendered = prerendered[2]
        else:
            rendered = self._followup_render(template, self)
        if pdf is None:
            pdf = self._followup_ensure_pdfs()[self]
        message = self._followup_post_reminder(self, recipient, test_address, rendered, pdf)
        return {'state': 'sent', 'mail_message_id': message.id, 'message_id': message.message_id,
                'is_test': bool(test_address)}

    def _followup_check_recipient(self):
        """Who gets this invoice's reminder, and the test-mode address that replaces them, if any.

        :raise FollowupSendError: no usable address
        """
        self.ensure_one()
        company = self.company_id
        test_address = company.followup_test_mode and company.followup_test_email
        recipient = self._followup_recipient()
        if not recipient and not test_address:
            raise FollowupNoAddressError(self.env._(
                "%(partner)s has no valid e-mail address.", partner=self.partner_id.display_name))
        if recipient and not test_address and recipient.is_blacklisted:
            raise FollowupSendError(self.env._(
                "The e-mail address %(email)s is blacklisted (it bounced or unsubscribed).", email=recipient.email))
        return recipient, test_address

    def _followup_render_key(self):
        """What an e-mail rendered earlier must still match to be sent as it is: the invoice unchanged, unpaid."""
        self.ensure_one()
        return self.write_date, self.amount_residual, self.payment_state

    @api.model
    def _followup_prerender(self, moves):
        """Render the e-mails of a batch, one call per e-mail template for all the invoices it is due on: their
        customers, currencies and lines are then read together instead of invoice by invoice.

        Rendered before the invoices are locked: each is used only if its invoice is unchanged when its turn
        comes (``_followup_render_key``), else the e-mail is rendered again.
        :return: {invoice id: (template, render key, rendered values)}
        """
        self.env.flush_all()  # the render keys are what the database holds
        by_template = defaultdict(list)
        # Not those another worker held while the batch was prepared: rendering would give them their portal token.
        for move in moves.filtered(lambda move: move.access_token and not move.company_id.followup_consolidate):
            today = move.company_id._followup_today()
            due = [step for step, date in move._followup_pending_steps()[1] if date <= today]
            if due and due[-1].channel == 'email':  # the step _followup_plan carries out: the latest one due
                by_template[due[-1].mail_template_id].append(move.id)
        prerendered = {}
        for template, move_ids in by_template.items():
            try:
                values = template._generate_template(move_ids, RENDERED_FIELDS)
            except Exception:  # noqa: BLE001 - each invoice renders its own then, and a broken one fails alone
                _logger.info("Batch rendering of %s failed; rendering invoice by invoice", template.name,
                             exc_info=True)
                continue
            authors = {}
            for move in self.browse(move_ids):
                rendered = values[move.id]
                if email_from := rendered.get('email_from'):
                    if email_from not in authors:  # the partner message_post would look up, once per sender
                        authors[email_from] = move._message_compute_author(None, email_from)[0]
                    rendered['author_id'] = authors[email_from]
                prerendered[move.id] = (template, move._followup_render_key(), rendered)
        return prerendered

    @api.model
    def _followup_render(self, template, record):
        """Subject, body and sender of ``template`` for ``record``, in the recipient's language."""
        try:
            return template._generate_template(record.ids, RENDERED_FIELDS)[record.id]
        except Exception as error:  # noqa: BLE001 - any rendering error must be shown to a person
            raise FollowupSendError(self.env._(
                "The template “%(template)s” could not be rendered: %(error)s", template=template.name, error=error,
            )) from error

    @api.model
    def _followup_post_reminder(self, thread, recipient, test_address, rendered, attachments):
        """Post a rendered reminder on ``thread``'s chatter and queue its e-mail (to the test address in test mode).

        The message is posted, not sent: the mail queue sends it after commit, so a rollback sends nothing.
        """
        post_values = {
            'body': rendered.get('body_html') or '',
            'subject': rendered.get('subject') or thread.display_name,
            'attachment_ids': attachments.ids,
            'mail_auto_delete': False,
            'email_layout_xmlid': 'mail.mail_notification_layout_with_responsible_signature',
            # The layout's button reads "View <model description>": "Invoice", as core's sending says, not the
            # model's name ("Journal Entry"); in the customer's language.
            'model_description': thread.with_context(lang=recipient.lang or self.env.lang).type_name,
        }
        if rendered.get('email_from'):
            post_values['email_from'] = rendered['email_from']
        if 'author_id' in rendered:
            post_values['author_id'] = rendered['author_id']
        # Application code posting the invoice's own PDF: not a document to import into the invoice.
        thread = thread.with_context(
            mail_notify_force_send=False, email_notification_allow_footer=True, disable_attachment_import=True)
        if not test_address:
            return thread.message_post(
                message_type='comment', subtype_xmlid='mail.mt_comment', partner_ids=recipient.ids, **post_values)
        message = thread.message_post(message_type='comment', subtype_xmlid='mail.mt_note', **post_values)
        self.env['mail.mail'].sudo().create({
            'mail_message_id': message.id,
            'email_to': test_address,
            'body_html': post_values['body'],
            'auto_delete': False,
            'attachment_ids': [Command.set(attachments.ids)],
        })
        return message

    @api.model
    def _followup_run_consolidated(self, plans, today):
        """One e-mail for several invoices of a customer due the same day, with every invoice's PDF: posted on the
        oldest invoice (never on the customer's record, which every internal user of every company reads), each
        invoice logging its own step and the others noting where that e-mail is.

        :param plans: {invoice: (step, cycle date, superseded steps)}, all e-mail steps of one customer
        """
        moves = self.browse([move.id for move in plans]).sorted(lambda move: (move.invoice_date_due, move.id))
        first = moves[0]
        recipient, test_address = first._followup_check_recipient()
        partner = first.commercial_partner_id.with_context(invoice_followup_move_ids=moves.ids)
        template = self.env.ref('invoice_followup.mail_template_followup_consolidated').with_context(
            invoice_followup_move_ids=moves.ids)
        rendered = self._followup_render(template, partner)
        pdfs = moves._followup_ensure_pdfs()
        attachments = self.env['ir.attachment'].union(*pdfs.values())
        # No header: its button and title would present the e-mail as being about the oldest invoice only.
        message = self._followup_post_reminder(
            first.with_context(email_notification_allow_header=False), recipient, test_address, rendered, attachments)
        logs = self.env['invoice.followup.log']
        for move in moves:
            step, cycle_date, superseded = plans[move]
            logs |= move._followup_run_step(step, cycle_date, today, superseded=superseded, message=message,
                                            is_test=bool(test_address))
            if move != first:
                move.message_post(body=self.env._(
                    "Reminder “%(step)s” sent to %(partner)s in one e-mail with their other invoices due today: "
                    "see %(invoice)s.", step=step.name, partner=partner.display_name, invoice=first._get_html_link()))
        return logs

    def _followup_mark_failed(self, step, cycle_date, today, error):
        """Record a failed step and put the invoice in exception, out of the cron's way until a person acts."""
        self.ensure_one()
        message = str(error.args[0]) if isinstance(error, UserError) and error.args else str(error)
        if step:
            self.env['invoice.followup.log']._followup_record({
                'move_id': self.id, 'step_id': step.id, 'cycle_key': cycle_date, 'date': today,
                'state': 'failed', 'note': message[:250], 'currency_id': self.currency_id.id,
                'amount_due': self.amount_residual,
            })
        self.followup_error = message
        # The reason (an SMTP reply, a template error) stays on the invoice's error field and the case, which only
        # accountants read: the chatter is read by every internal user who may open the invoice.
        self.message_post(body=self.env._(
            "Automatic reminder failed: reminders are stopped until the cause shown on the invoice is fixed."))
        reason = 'no_email' if isinstance(error, FollowupNoAddressError) else 'failure'
        self.env['invoice.followup.case']._followup_open(self, reason, body=message)

    def _followup_process(self, today, pdf=None):
        """Plan and carry out today's step of this invoice. Return its log (empty when nothing was due)."""
        plan = self._followup_plan(today)
        if not plan:
            return self.env['invoice.followup.log']
        step, cycle_date, superseded = plan
        return self._followup_run_step(step, cycle_date, today, superseded=superseded, pdf=pdf)

    # -------------------------------------------------------------------------
    # CRON: batches of due invoices, one transaction per invoice
    # -------------------------------------------------------------------------

    def _followup_send_batch(self, company, today, batch_size):
        """Process the company's due invoices in batches. Return False when the cron's time budget is spent."""
        domain = self._followup_due_domain(company, today)

        def prepare(moves):
            planned = {move.id: (move.followup_next_step_id, move.followup_cycle_date) for move in moves}
            pdfs = prepare_batch(moves)
            prerendered = self._followup_prerender(moves)
            self.env['ir.cron']._commit_progress()  # each invoice's transaction starts on a fresh snapshot
            return planned, pdfs, prerendered

        return run_in_batches(
            self, domain, batch_size,
            lambda move, prepared: self._followup_cron_process_one(move, domain, today, *prepared),
            prepare=prepare)

    def _followup_cron_process_one(self, move, domain, today, planned, pdfs, prerendered):
        """One invoice (with consolidation on: the invoice and the customer's other invoices due today), one
        transaction. Return False when the rows were locked by someone else and are left for later."""
        plans = {}

        def work():
            group = move
            if move.company_id.followup_consolidate:
                group |= self.search(domain & Domain('commercial_partner_id', '=', move.commercial_partner_id.id))
            locked = lock_rows(group, claim=True)
            # And their customers: posting a reminder writes the customer's portal sign-up data, and escalations
            # open the customer's cases (one per reason), which two transactions must not do at once.
            customers = locked.partner_id | locked.commercial_partner_id
            if move not in locked or lock_rows(customers, allow_referencing=True) != customers:
                return False
            self._followup_invalidate_invoice_data()  # re-read after the lock: paid or paused meanwhile?
            if not move.filtered_domain(domain):
                move._followup_log_skipped(*planned[move.id], today)
            for candidate in locked.filtered_domain(domain):
                if plan := candidate._followup_plan(today):
                    plans[candidate] = plan
            by_email = {candidate: plan for candidate, plan in plans.items() if plan[0].channel == 'email'}
            if len(by_email) > 1:
                self._followup_run_consolidated(by_email, today)
            for candidate, (step, cycle_date, superseded) in plans.items():
                if len(by_email) <= 1 or candidate not in by_email:
                    candidate._followup_run_step(
                        step, cycle_date, today, superseded=superseded, pdf=pdfs.get(candidate.id),
                        prerendered=prerendered.get(candidate.id))
            return True

        def on_failure(error):
            for candidate, (step, cycle_date, _superseded) in (plans or {move: (None, None, None)}).items():
                self.browse(candidate.id)._followup_mark_failed(step, cycle_date, today, error)

        return run_isolated(self.env, work, on_failure, f"Reminder of invoice {move.id}")

    @api.model
    def _followup_invalidate_invoice_data(self):
        """Forget what the cache knows of invoices and of what decides their reminders (payments, logs, cases, the
        customer's address and bounces), so that they are read again; companies, policies and templates stay
        cached for the whole run."""
        for model, fnames in FRESH_AFTER_LOCK.items():
            self.env[model].invalidate_model(fnames)

    def _followup_log_skipped(self, step, cycle_date, today):
        """The invoice left the due list between selection and sending: say why on its log when it was paid."""
        self.ensure_one()
        if self.followup_state != 'done' or not step or not cycle_date:
            return
        Log = self.env['invoice.followup.log']
        if Log.search_count([('move_id', '=', self.id), ('step_id', '=', step.id), ('cycle_key', '=', cycle_date),
                             ('state', 'not in', ('cancel', 'failed'))], limit=1):
            return
        Log._followup_record({
            'move_id': self.id, 'step_id': step.id, 'cycle_key': cycle_date, 'date': today, 'state': 'skipped',
            'note': self.env._("Paid before the reminder went out."), 'currency_id': self.currency_id.id,
        })
