# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import InvoiceFollowupCommon

# An e-mail answering one of our reminders (In-Reply-To: the reminder's Message-Id), as the mail gateway gets it.
# ``extra`` holds additional header lines, each ending with a new line.
REPLY = """Return-Path: {return_path}
From: {email_from}
To: {to}
Subject: {subject}
Date: Mon, 09 Feb 2026 10:00:00 +0000
Message-Id: {msg_id}
In-Reply-To: {in_reply_to}
References: {in_reply_to}
{extra}MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

{body}
"""


@tagged('post_install', '-at_install')
class TestCustomerReply(InvoiceFollowupCommon):
    """A customer who answers a reminder by e-mail pauses the reminders that e-mail was about, and a person reads
    the answer on a collection case; automatic answers (out of office, auto-replies, bounces) change nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.contact = cls.env['res.partner'].create({
            'name': 'Accounts Payable', 'parent_id': cls.partner_a.id, 'email': 'payables@example.com'})
        cls.user_employee.email = 'ernest.employee@company.example'

    def _remind(self, invoices, day='2026-02-07'):
        with self._at(day):
            self._run_cron()
        logs = self._logs(invoices)
        self.assertEqual(logs.move_id, invoices)
        self.assertTrue(logs.mail_message_id.message_id)
        return logs

    def _reply(self, log, email_from='"Customer A" <customer.a@example.com>', subject=None, extra='',
               return_path='', body="We will pay next week, the delivery was late."):
        """The mail gateway receives an answer to the reminder of ``log``."""
        self.format_and_process(
            REPLY, email_from, f'{self.alias_catchall}@{self.alias_domain}',
            subject=subject or f"Re: {log.mail_message_id.subject}", extra=extra, return_path=return_path,
            in_reply_to=log.mail_message_id.message_id, body=body, target_model='account.move')

    def _reply_cases(self, partner=None):
        return self.env['invoice.followup.case'].search(
            [('partner_id', '=', (partner or self.partner_a).id), ('reason', '=', 'customer_reply')])

    def test_reply_pauses_and_resolving_resumes_at_the_next_step(self):
        invoice = self._followup_invoice()
        other = self._followup_invoice(partner=self.partner_b)
        log = self._remind(invoice)
        self.assertEqual(log.step_id, self.step_late_7)
        self._reply(log)
        reply = invoice.message_ids.filtered(lambda message: message.message_type == 'email')
        self.assertEqual(len(reply), 1, "the gateway put the answer in the invoice's chatter")
        self.assertEqual(reply.author_id, self.partner_a)
        case = self._reply_cases()
        self.assertEqual(len(case), 1)
        self.assertEqual(case.move_ids, invoice)
        self.assertTrue(case.is_open)
        self.assertIn("the delivery was late", case.message_ids[0].body, "the case shows the answer to a person")
        self.assertEqual(case.activity_ids.activity_type_id, self.env.ref('mail.mail_activity_data_todo'))
        self.assertEqual(invoice.followup_state, 'paused')
        self.assertFalse(invoice.followup_next_date, "only a person ends the pause")
        self.assertEqual(other.followup_state, 'active', "another customer's invoice is untouched")
        with self._at('2026-02-14'):
            self._run_cron()
        self.assertEqual(self._logs(invoice), log, "no reminder while a person reads the answer")
        self.assertEqual(self._logs(other).step_id, self.step_late_7 | self.step_late_14, "the others go on")

        case.action_resolve()
        self.assertEqual(invoice.followup_state, 'active')
        self.assertFalse(case.activity_ids, "the to-do is done with the case")
        with self._at('2026-02-16'):
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7 | self.step_late_14,
                         "resolved, the next step goes out")

    def test_second_reply_adds_to_the_open_case(self):
        invoice = self._followup_invoice()
        log = self._remind(invoice)
        self._reply(log, body="Which bank account should we use?")
        self._reply(log, email_from=self.contact.email, body="Our payment run is on Friday.")
        case = self._reply_cases()
        self.assertEqual(len(case), 1, "one open case per customer gathers the answers")
        bodies = ''.join(case.message_ids.mapped('body'))
        self.assertIn("Which bank account", bodies)
        self.assertIn("payment run is on Friday", bodies, "the second answer shows on the same case")
        self.assertEqual(len(case.activity_ids), 1, "one to-do for the person, not one per answer")
        case.action_resolve()
        self._reply(log, body="Paid today.")
        new_case = self._reply_cases().filtered('is_open')
        self.assertEqual(len(new_case), 1)
        self.assertNotEqual(new_case, case, "an answer after the case was resolved opens a new one")
        self.assertEqual(invoice.followup_state, 'paused')

    def test_reply_case_closes_once_paid_and_a_reply_about_a_paid_invoice_opens_none(self):
        invoice = self._followup_invoice()
        log = self._remind(invoice)
        self._reply(log, body="Paid this morning.")
        case = self._reply_cases()
        self.assertTrue(case.is_open)
        self._register_payment(invoice)
        with self._at('2026-02-10'):
            self._run_cron()
        self.assertFalse(case.is_open, "the invoices are paid: the case closes itself")
        self._reply(log, body="Thank you for the receipt.")
        self.assertEqual(self._reply_cases(), case, "nothing left to pause: no new case")

    def test_reply_from_a_contact_of_the_customer_pauses(self):
        invoice = self._followup_invoice()
        log = self._remind(invoice)
        self._reply(log, email_from='"Accounts Payable" <payables@example.com>')
        self.assertEqual(invoice.message_ids.filtered(lambda m: m.message_type == 'email').author_id, self.contact)
        self.assertEqual(self._reply_cases().move_ids, invoice)
        self.assertEqual(invoice.followup_state, 'paused')

    def test_reply_to_a_consolidated_reminder_pauses_the_invoices_it_covered(self):
        self.company.followup_consolidate = True
        first = self._followup_invoice(amount=1000.0, due='2026-01-31')
        second = self._followup_invoice(amount=500.0, due='2026-01-24')
        logs = self._remind(first | second)
        self.assertEqual(len(logs.mail_message_id), 1, "one e-mail covered both invoices")
        later = self._followup_invoice(amount=200.0, invoice_date='2026-02-01', due='2026-03-03')
        self._reply(logs[0])
        self.assertEqual(self._reply_cases().move_ids, first | second)
        self.assertEqual(first.followup_state, 'paused')
        self.assertEqual(second.followup_state, 'paused')
        self.assertEqual(later.followup_state, 'active', "an invoice the e-mail was not about keeps its reminders")

    def test_internal_reply_does_not_pause(self):
        invoice = self._followup_invoice()
        log = self._remind(invoice)
        self._reply(log, email_from=self.user_employee.email_formatted, body="I called them, they pay Friday.")
        reply = invoice.message_ids.filtered(lambda message: message.message_type == 'email')
        self.assertEqual(reply.author_id, self.partner_employee, "the gateway took the answer")
        self.assertFalse(self._reply_cases())
        self.assertEqual(invoice.followup_state, 'active')
        self._reply(log)
        self.assertEqual(self._reply_cases().move_ids, invoice, "the customer's own answer does pause")

    def test_automatic_replies_do_not_pause(self):
        invoice = self._followup_invoice()
        log = self._remind(invoice)
        automatic = [
            ("Auto-Submitted: auto-replied\n", ''),
            ("Auto-Submitted: auto-generated; owner-email=\"it@example.com\"\n", ''),
            ("X-Autoreply: yes\n", ''),
            ("X-Autorespond: Out of office\n", ''),
            ("Precedence: bulk\n", ''),
            ("Precedence: auto_reply\n", ''),
            ("Precedence: junk\n", ''),
            ("Precedence: list\n", ''),
            ('', '<>'),  # empty return path: a notification that must never be answered
        ]
        for extra, return_path in automatic:
            with self.subTest(extra=extra, return_path=return_path):
                self._reply(log, extra=extra, return_path=return_path, body="I am away.")
                self.assertFalse(self._reply_cases())
                self.assertEqual(invoice.followup_state, 'active')
        self.assertEqual(
            len(invoice.message_ids.filtered(lambda message: message.message_type == 'email')), len(automatic),
            "the gateway still keeps them in the chatter")
        self._reply(log)
        self.assertEqual(self._reply_cases().move_ids, invoice, "the customer's own answer does pause")

    def test_out_of_office_subjects_do_not_pause(self):
        invoice = self._followup_invoice()
        log = self._remind(invoice)
        subject = log.mail_message_id.subject
        for prefix in ("Automatic reply:", "Out of Office:", "Autoreply:", "Auto:", "Automatische Antwort:",
                       "Abwesenheitsnotiz:", "Réponse automatique :", "Absent du bureau :", "Respuesta automática:",
                       "Fuera de la oficina:", "Risposta automatica:", "Automatisch antwoord:", "Afwezig:",
                       "Resposta automática:"):
            with self.subTest(prefix=prefix):
                self._reply(log, subject=f"{prefix} {subject}", body="I am out of the office until Monday.")
                self.assertFalse(self._reply_cases())
                self.assertEqual(invoice.followup_state, 'active')
        self._reply(log, extra="Auto-Submitted: no\n", subject=f"RE: {subject} (office move)")
        self.assertEqual(self._reply_cases().move_ids, invoice, "a person's answer, marked as such, pauses")

    def test_bounce_does_not_open_a_reply_case(self):
        invoice = self._followup_invoice()
        log = self._remind(invoice)
        # Sent back to the reply address, not to the bounce one, and without a delivery report: Odoo's gateway
        # does not recognise it as a bounce and routes it to the invoice like an answer.
        for return_path in ('<>', ''):
            with self.subTest(return_path=return_path):
                self._reply(log, email_from='postmaster@mx.customer.example', return_path=return_path,
                            subject="Delivery Status Notification (Failure)",
                            body="Delivery to customer.a@example.com failed permanently.")
                self.assertFalse(self._reply_cases())
                self.assertEqual(invoice.followup_state, 'active')
        self.assertEqual(len(invoice.message_ids.filtered(lambda message: message.message_type == 'email')), 2)
        # Sent to the bounce address without any automatic header: Odoo's gateway takes it for a bounce (and routes
        # it nowhere), never for the customer's answer.
        self.format_and_process(
            REPLY, '"Mail System" <mail-system@mx.customer.example>', f'{self.alias_bounce}@{self.alias_domain}',
            subject="Undeliverable: reminder", in_reply_to=log.mail_message_id.message_id,
            body="Your message to customer.a@example.com could not be delivered.", target_model='account.move')
        self.assertEqual(len(invoice.message_ids.filtered(lambda message: message.message_type == 'email')), 2)
        self.assertFalse(self._reply_cases())
        self.assertEqual(invoice.followup_state, 'active')
        self._reply(log)
        self.assertEqual(self._reply_cases().move_ids, invoice, "the customer's own answer does pause")
