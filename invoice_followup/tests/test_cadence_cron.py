# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

from odoo.fields import Command
from odoo.tests import tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestCadenceCron(InvoiceFollowupCommon):
    """The daily cron: what goes out, when, to whom, and never twice."""

    def _mails_to(self, partner):
        return self.env['mail.mail'].search([('recipient_ids', 'in', partner.ids)])

    def test_each_step_goes_out_on_its_day_exactly_once(self):
        invoice = self._followup_invoice(due='2026-01-31')
        with self._at('2026-01-23'):
            self._run_cron()
        self.assertFalse(self._logs(invoice), "a day early: nothing")
        with self._at('2026-01-24'):
            self._run_cron()
            self._run_cron()
        log = self._logs(invoice)
        self.assertEqual(log.step_id, self.step_before)
        self.assertEqual(log.amount_due, 1000.0)
        self.assertEqual(log.cycle_key, self._d('2026-01-31'))
        mail = self._mails_to(self.partner_a)
        self.assertEqual(len(mail), 1, "running the cron twice the same day sends nothing new")
        self.assertEqual(mail.state, 'outgoing', "reminders are queued, not sent inside the cron")
        self.assertEqual(log.mail_message_id, mail.mail_message_id)
        self.assertEqual(log.message_id, mail.mail_message_id.message_id)
        self.assertIn(invoice.name, mail.subject)
        self.assertIn('1,000.00', mail.body_html)
        self.assertEqual(mail.attachment_ids, invoice.invoice_pdf_report_id, "the invoice PDF, stored once, reused")
        self.assertEqual(invoice.followup_last_step_id, self.step_before)
        self.assertEqual(invoice.followup_next_date, self._d('2026-01-31'))
        with self._at('2026-01-25'):
            self._run_cron()
        self.assertEqual(len(self._logs(invoice)), 1)
        with self._at('2026-01-31'):
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_before | self.step_due)
        self.assertEqual(len(self._mails_to(self.partner_a)), 2)
        trigger = self.env['ir.cron.trigger'].search(
            [('cron_id', '=', self.env.ref('mail.ir_cron_mail_scheduler_action').id)])
        self.assertTrue(trigger, "the mail queue is woken up after the run")

    def test_late_invoice_gets_the_latest_step_once_not_a_burst(self):
        invoice = self._followup_invoice(due='2026-01-31')
        with self._at('2026-03-01'):
            self._run_cron()
        sent = self._logs(invoice)
        self.assertEqual(sent.step_id, self.step_late_14)
        skipped = self._logs(invoice, states=('skipped',))
        self.assertEqual(skipped.step_id, self.step_before | self.step_due | self.step_late_7)
        self.assertEqual(len(self._mails_to(self.partner_a)), 1)
        self.assertFalse(invoice.followup_next_date, "every step is done")
        self.assertEqual(invoice.followup_state, 'active')

    def test_paid_invoices_are_never_reminded_in_any_payment_state(self):
        paid = self._followup_invoice()
        self._register_payment(paid)
        reversed_move = self._followup_invoice()
        reversed_move._reverse_moves(cancel=True)
        blocked = self._followup_invoice()
        blocked.action_toggle_block_payment()
        draft = self._followup_invoice(post=False)
        cancelled = self._followup_invoice()
        cancelled.button_draft()
        cancelled.button_cancel()
        partial = self._followup_invoice(amount=1000.0)
        self._register_payment(partial, amount=250.0)
        self.assertEqual(reversed_move.payment_state, 'reversed')
        with self._at('2026-03-01'):
            self._run_cron()
        quiet = paid | reversed_move | blocked | draft | cancelled
        self.assertFalse(self._logs(quiet, states=('sent', 'skipped', 'failed')))
        log = self._logs(partial)
        self.assertEqual(log.amount_due, 750.0)
        mail = self._mails_to(self.partner_a)
        self.assertEqual(len(mail), 1)
        self.assertIn('750.00', mail.body_html, "the reminder asks for the residual")

    def test_paid_between_queueing_and_delivery(self):
        invoices = self._followup_invoice() | self._followup_invoice() | self._followup_invoice()
        second = invoices[1]
        Delivery = self.registry['invoice.followup.delivery']
        original = Delivery._deliver

        def pay_second_first(this, logs):
            self._register_payment(second)  # a payment lands after planning, before the worker claims the queue
            self.env.flush_all()
            return original(this, logs)

        with self._at('2026-02-08'), patch.object(Delivery, '_deliver', pay_second_first):
            self._run_cron()
        self.assertEqual(self._logs(invoices).move_id, invoices[0] | invoices[2])
        cancelled = self._logs(second, states=('cancel',))
        self.assertEqual(cancelled.note, "Paid before the reminder went out.")
        self.assertFalse(cancelled.mail_message_id, "nothing posted, nothing e-mailed")
        self.assertEqual(second.followup_state, 'done')

    def test_batch_renders_each_template_once(self):
        invoices = self._followup_invoice() | self._followup_invoice() | self._followup_invoice()
        Template = self.registry['mail.template']
        original = Template._generate_template
        calls = []

        def counted(this, res_ids, *args, **kwargs):
            calls.append(list(res_ids))
            return original(this, res_ids, *args, **kwargs)

        with self._at('2026-02-08'), patch.object(Template, '_generate_template', counted):
            self._run_cron()
        self.assertEqual(len(self._logs(invoices)), 3)
        self.assertEqual(calls, [invoices.ids], "one rendering for the batch, none per invoice")
        messages = self._logs(invoices).mail_message_id
        author = invoices[0]._message_compute_author(None, messages[0].email_from)[0]
        self.assertTrue(author)
        self.assertEqual(messages.author_id.ids, [author], "the author message_post would have found")

    def test_partly_paid_between_queueing_and_delivery(self):
        invoices = self._followup_invoice() | self._followup_invoice()
        second = invoices[1]
        Delivery = self.registry['invoice.followup.delivery']
        original = Delivery._deliver

        def pay_part_of_second_first(this, logs):
            self._register_payment(second, amount=400.0)  # after planning (amount 1000 queued), before delivery
            self.env.flush_all()
            return original(this, logs)

        with self._at('2026-02-08'), patch.object(Delivery, '_deliver', pay_part_of_second_first):
            self._run_cron()
        self.assertEqual(self._logs(second).amount_due, 600.0)
        mail = self._logs(second).mail_id
        self.assertIn('600.00', mail.body_html, "rendered at delivery: the e-mail asks for what is left")

    def test_installment_reminder_then_nothing_once_paid(self):
        invoice = self._followup_invoice(
            amount=1000.0, invoice_date='2026-01-01', invoice_payment_term_id=self.term_30_70.id)
        with self._at('2026-01-08'):
            self._run_cron()
        log = self._logs(invoice)
        self.assertEqual(log.step_id, self.step_late_7)
        self.assertEqual(log.amount_due, 300.0)
        self.assertIn('300.00', self._mails_to(self.partner_a).body_html)
        self._register_payment(invoice, amount=300.0)
        with self._at('2026-01-20'):
            self._run_cron()
        self.assertEqual(len(self._logs(invoice)), 1, "installment 2 is not due yet: nothing")

    def test_reruns_and_next_steps_are_idempotent(self):
        invoices = self.env['account.move']
        for _i in range(5):
            invoices |= self._followup_invoice(due='2026-01-31')
        with self._at('2026-01-31'):
            self._run_cron()
            self._run_cron()
        with self._at('2026-02-01'):
            self._run_cron()
        self.assertEqual(len(self._logs(invoices)), 5)
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(len(self._logs(invoices).filtered(lambda log: log.step_id == self.step_late_7)), 5)
        self.assertEqual(len(self._logs(invoices)), 10)

    def test_mail_queue_sends_each_reminder_exactly_once(self):
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            self._run_cron()
        mail = self._mails_to(self.partner_a)
        self.assertEqual(mail.state, 'outgoing')
        with self.mock_mail_gateway(mail_unlink_sent=False):
            self.env['mail.mail'].process_email_queue()
            self.env['mail.mail'].process_email_queue()
        self.assertEqual(len(self._mails), 1)
        self.assertEqual(self._mails[0]['email_to'], ['"partner_a" <customer.a@example.com>'])
        self.assertEqual(mail.state, 'sent')
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(len(self._mails_to(self.partner_a)), 1, "no new mail on a second run")
        self.assertEqual(self._logs(invoice).state, 'sent')

    def test_activity_step_schedules_a_call_for_a_person(self):
        salesperson = self.env['res.users'].create({
            'name': 'Sales Sam', 'login': 'sam', 'email': 'sam@company.example',
            'group_ids': [Command.link(self.env.ref('account.group_account_invoice').id)],
        })
        self.policy.step_ids.filtered(lambda step: step.offset_days == 14).unlink()
        call = self.env['invoice.followup.step'].create({
            'policy_id': self.policy.id, 'name': 'Call the customer', 'offset_days': 30, 'channel': 'activity',
        })
        invoice = self._followup_invoice(due='2026-01-31', invoice_user_id=salesperson.id)
        with self._at('2026-03-02'):
            self._run_cron()
        log = self._logs(invoice, states=('scheduled',))
        self.assertEqual(log.step_id, call)
        self.assertEqual(log.activity_id.user_id, salesperson)
        self.assertEqual(log.activity_id.activity_type_id, self.env.ref('mail.mail_activity_data_call'))
        self.assertFalse(self._mails_to(self.partner_a), "a call step sends no e-mail")
        self.policy.collector_id = self.env.user
        other = self._followup_invoice(due='2026-01-31', invoice_user_id=salesperson.id)
        with self._at('2026-03-02'):
            self._run_cron()
        self.assertEqual(self._logs(other, states=('scheduled',)).activity_id.user_id, self.env.user)

    def _invoice_by_the_system(self, salesperson):
        """A posted invoice the way a cron or a script issues it: created as the superuser (OdooBot)."""
        system = self.env['account.move'].with_user(self.env.ref('base.user_root')).with_company(self.company)
        invoice = system.create({
            'move_type': 'out_invoice', 'partner_id': self.partner_a.id, 'invoice_date': '2026-01-01',
            'invoice_date_due': '2026-01-31', 'invoice_payment_term_id': False,
            'invoice_line_ids': [
                Command.create({'product_id': self.product_a.id, 'price_unit': 1000.0, 'tax_ids': []})],
            **({} if salesperson is None else {'invoice_user_id': salesperson}),
        })
        invoice.action_post()
        return invoice

    def test_invoices_issued_by_a_cron_are_not_reminded_by_odoobot(self):
        bot = self.env.ref('base.user_root')
        self.policy.step_ids.filtered(lambda step: step.offset_days == 14).unlink()
        self.env['invoice.followup.step'].create({
            'policy_id': self.policy.id, 'name': 'Call the customer', 'offset_days': 30, 'channel': 'activity',
        })
        by_bot = self._invoice_by_the_system(salesperson=None)
        nobody = self._invoice_by_the_system(salesperson=False)
        self.assertEqual(by_bot.invoice_user_id, bot, "what the superuser's environment gives an invoice")
        self.assertFalse(nobody.invoice_user_id)
        with self._at('2026-02-07'):
            self._run_cron()
        for invoice in by_bot | nobody:
            self.assertEqual(invoice.company_id, self.company)
            message = self._logs(invoice).mail_message_id
            self.assertTrue(message, "reminded")
            self.assertEqual(message.author_id, self.company.partner_id, "sent in the company's name")
            self.assertEqual(message.email_from, self.company.email_formatted)
            mail = self.env['mail.mail'].search([('mail_message_id', '=', message.id)])
            self.assertEqual(mail.email_from, self.company.email_formatted)
            self.assertNotIn('System', mail.body_html, "no OdooBot signature")
        with self._at('2026-03-02'):
            self._run_cron()
        for invoice in by_bot | nobody:
            user = self._logs(invoice, states=('scheduled',)).activity_id.user_id
            self.assertTrue(user, "the call is someone's")
            self.assertNotEqual(user, bot)
            self.assertFalse(user._is_superuser())
            self.assertTrue(user.active and user._is_internal(), "a person, who can log in")
            self.assertTrue(user.has_group('account.group_account_invoice'), "who works the company's invoices")
            self.assertIn(self.company, user.company_ids)
        collector = self.env['res.users'].create({
            'name': 'Collections Carla', 'login': 'carla', 'email': 'carla@company.example',
            'company_id': self.company.id, 'company_ids': [Command.set(self.company.ids)],
            'group_ids': [Command.link(self.env.ref('account.group_account_invoice').id)],
        })
        self.company.followup_user_id = collector
        later = self._invoice_by_the_system(salesperson=None)
        with self._at('2026-03-02'):
            self._run_cron()
        self.assertEqual(self._logs(later, states=('scheduled',)).activity_id.user_id, collector,
                         "the company's collections responsible")

    def test_test_mode_redirects_every_reminder(self):
        self.company.write({'followup_test_mode': True, 'followup_test_email': 'qa@company.example'})
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            self._run_cron()
        log = self._logs(invoice)
        self.assertTrue(log.is_test)
        self.assertFalse(self._mails_to(self.partner_a), "the customer gets nothing")
        mail = self.env['mail.mail'].search([('mail_message_id', '=', log.mail_message_id.id)])
        self.assertEqual(mail.email_to, 'qa@company.example')
        self.assertEqual(mail.attachment_ids, invoice.invoice_pdf_report_id)

    def test_minimum_gap_between_reminders_to_a_customer(self):
        self.company.followup_min_gap_days = 3
        first = self._followup_invoice(due='2026-01-31')
        second = self._followup_invoice(due='2026-02-01')
        with self._at('2026-01-31'):
            self._run_cron()
        with self._at('2026-02-01'):
            self._run_cron()
        self.assertTrue(self._logs(first))
        self.assertFalse(self._logs(second), "the customer was reminded yesterday")
        self.assertEqual(second.followup_next_date, self._d('2026-02-03'))
        with self._at('2026-02-03'):
            self._run_cron()
        self.assertEqual(self._logs(second).step_id, self.step_due)

    def test_company_timezone_decides_what_today_is(self):
        self.company.resource_calendar_id.tz = 'Etc/GMT-2'  # UTC+2
        invoice = self._followup_invoice(due='2026-01-31')
        self.policy.step_ids.filtered(lambda step: step.offset_days < 0).unlink()
        with self._at('2026-01-30', '21:30:00'):  # 23:30 on the 30th, local: not yet
            self._run_cron()
        self.assertFalse(self._logs(invoice))
        with self._at('2026-01-30', '22:30:00'):  # 00:30 on the 31st, local: due today
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_due)
        with self._at('2026-01-31', '12:00:00'):  # same local day, after midnight UTC: not again
            self._run_cron()
        self.assertEqual(len(self._logs(invoice)), 1)

    def test_automation_off_sends_nothing(self):
        self.company.followup_automation = False
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertFalse(self._logs(invoice))

    def test_send_now_and_preview(self):
        invoice = self._followup_invoice(due='2026-01-31')
        with self._at('2026-01-10'):
            preview = self.env['invoice.followup.preview'].create({'date': '2026-01-24'})
            self.assertEqual(preview.line_ids.move_id, invoice)
            self.assertEqual(preview.line_ids.step_id, self.step_before)
            self.assertEqual(preview.line_ids.recipient, 'customer.a@example.com')
            self.assertFalse(self._logs(invoice), "the preview sends nothing")
            invoice.action_followup_send_now()
        self.assertEqual(self._logs(invoice).step_id, self.step_before)
        self.assertEqual(invoice.followup_next_step_id, self.step_due)

    def test_real_pdf_is_rendered_once_and_reused(self):
        invoice = self._followup_invoice()
        self.assertFalse(invoice.invoice_pdf_report_id)
        # wkhtmltopdf would fetch the report's assets from this very server, whose cursor the test holds:
        # point it at a closed local port so it renders at once, unstyled.
        self.env['ir.config_parameter'].set_param('report.url', 'http://127.0.0.1:9')
        day = self._d('2026-02-07')
        with self._at('2026-02-07'):
            queued = self.env['invoice.followup.queue']._apply(self.env['invoice.followup.planner']._plan(invoice, day),
                                                                day)
            self.env['invoice.followup.delivery'].with_context(force_report_rendering=True)._deliver_now(queued)
        pdf = invoice.invoice_pdf_report_id
        self.assertTrue(pdf.raw.startswith(b'%PDF'), "a real PDF, rendered by wkhtmltopdf")
        with self._at('2026-02-14'):
            self._run_cron()
        self.assertEqual(invoice.invoice_pdf_report_id, pdf)
        self.assertEqual(self.env['ir.attachment'].search_count([
            ('res_model', '=', 'account.move'), ('res_id', '=', invoice.id),
            ('res_field', '=', 'invoice_pdf_report_file'),
        ]), 1, "rendered once")
        self.assertEqual(self._logs(invoice).mail_message_id.attachment_ids, pdf | pdf)

    def test_one_email_per_customer_across_delivery_batches(self):
        self.company.followup_consolidate = True
        self.env['ir.config_parameter'].set_param('invoice_followup.batch_size', 1)
        first = self._followup_invoice(amount=1000.0)
        self._followup_invoice(amount=300.0, partner=self.partner_b)  # queued between the customer's two
        second = self._followup_invoice(amount=500.0)
        with self._at('2026-02-07'):
            self._run_cron()
        logs = self._logs(first | second)
        self.assertEqual(len(logs), 2)
        self.assertEqual(len(logs.mail_message_id), 1, "one e-mail, though the batches hold one reminder each")
        self.assertEqual(len(self._mails_to(self.partner_a)), 1)

    def test_one_email_per_customer_when_consolidated(self):
        self.company.followup_consolidate = True
        first = self._followup_invoice(amount=1000.0, due='2026-01-31')
        second = self._followup_invoice(amount=500.0, due='2026-01-24')
        alone = self._followup_invoice(amount=300.0, due='2026-01-31', partner=self.partner_b)
        with self._at('2026-02-07'):
            self._run_cron()
            self._run_cron()
        logs = self._logs(first | second)
        self.assertEqual(len(logs), 2)
        message = logs.mail_message_id
        self.assertEqual(len(message), 1, "both invoices went out in one e-mail")
        self.assertEqual((message.model, message.res_id), ('account.move', second.id),
                         "posted on the customer's oldest invoice, not on the customer's record")
        self.assertEqual(logs.mapped('step_id'), self.step_late_7 | self.step_late_14)
        mail = self._mails_to(self.partner_a)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.attachment_ids.filtered('res_field'),
                         first.invoice_pdf_report_id | second.invoice_pdf_report_id,
                         "each invoice's PDF (and the statement)")
        for invoice in first | second:
            self.assertIn(invoice.name, mail.body_html)
        self.assertIn('500.00', mail.body_html)
        note = first.message_ids[0]
        self.assertIn("one e-mail with their other invoices", note.body)
        self.assertIn(f'data-oe-id="{second.id}"', note.body, "the note links to the invoice that holds the e-mail")
        self.assertEqual(note.subtype_id, self.env.ref('mail.mt_note'), "a note: nothing is sent twice")
        self.assertFalse(self.env['mail.message'].search([
            ('model', '=', 'res.partner'), ('res_id', '=', self.partner_a.id), ('message_type', '!=', 'notification')]),
            "nothing of the reminder on the customer's record")
        self.assertEqual(self._logs(alone).mail_message_id.model, 'account.move', "a single invoice: its own e-mail")
