# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from urllib.parse import parse_qs, urlsplit

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import tagged

from odoo.addons.base.tests.test_ir_cron import CronMixinCase
from odoo.addons.payment import utils as payment_utils

from .common import InvoiceFollowupCommon


class StatementCommon(InvoiceFollowupCommon):
    """partner_a owes an overdue invoice and one not yet due, has a credit note and a payment not yet matched, an
    invoice in euros, a paid invoice, and an invoice in another company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency('EUR', rates=[('2025-01-01', 2.0)])

    def _statement(self, partner, day='2026-02-07'):
        return self.env['invoice.followup.statement']._statements(partner, self.company, self._d(day))[partner]

    def _refund(self, amount, partner=None, date='2026-02-01'):
        return self._create_invoice(
            move_type='out_refund', invoice_date=date, partner_id=(partner or self.partner_a).id, post=True,
            invoice_line_ids=[self._prepare_invoice_line(price_unit=amount, product_id=self.product_a, tax_ids=[])])

    def _unmatched_payment(self, amount, partner=None):
        payment = self.env['account.payment'].create({
            'payment_type': 'inbound', 'partner_type': 'customer', 'partner_id': (partner or self.partner_a).id,
            'amount': amount, 'journal_id': self.company_data['default_journal_bank'].id, 'date': '2026-02-02',
        })
        payment.action_post()
        return payment

    def _open_items(self):
        overdue = self._followup_invoice(amount=1000.0, due='2026-01-31')
        not_due = self._followup_invoice(amount=400.0, invoice_date='2026-02-01', due='2026-03-03')
        refund = self._refund(150.0)
        payment = self._unmatched_payment(100.0)
        return overdue, not_due, refund, payment


@tagged('post_install', '-at_install')
class TestStatementData(StatementCommon):

    def test_open_items_credits_netted_totals_and_pay_link(self):
        overdue, not_due, refund, payment = self._open_items()
        paid = self._followup_invoice(amount=70.0, due='2026-01-20')
        self._register_payment(paid)
        other_company = self.setup_other_company(name='Statement Other Company')['company']
        elsewhere = self.env['account.move'].with_company(other_company).create({
            'move_type': 'out_invoice', 'partner_id': self.partner_a.id, 'invoice_date': '2026-01-01',
            'invoice_line_ids': [Command.create({'name': 'Elsewhere', 'price_unit': 999.0, 'tax_ids': []})],
        })
        elsewhere.action_post()

        statement = self._statement(self.partner_a)
        self.assertEqual(len(statement['sections']), 1)
        section = statement['sections'][0]
        self.assertEqual(section['currency'], self.company.currency_id)
        lines = {line['name']: line for line in section['lines']}
        self.assertEqual(set(lines), {overdue.name, not_due.name, refund.name, payment.move_id.name},
                         "the paid invoice and the other company's invoice are not on the statement")
        self.assertEqual((lines[overdue.name]['kind'], lines[overdue.name]['days_overdue']), ('invoice', 7))
        self.assertEqual(lines[overdue.name]['date_due'], self._d('2026-01-31'))
        self.assertEqual(lines[overdue.name]['date'], self._d('2026-01-01'))
        self.assertEqual((lines[overdue.name]['amount'], lines[overdue.name]['residual']), (1000.0, 1000.0))
        self.assertEqual((lines[not_due.name]['days_overdue'], lines[not_due.name]['residual']), (0, 400.0))
        self.assertEqual((lines[refund.name]['kind'], lines[refund.name]['residual']), ('credit_note', -150.0))
        self.assertEqual((lines[payment.move_id.name]['kind'], lines[payment.move_id.name]['residual']),
                         ('payment', -100.0))
        self.assertEqual(section['total_open'], 1150.0)
        self.assertEqual(section['total_overdue'], 1000.0)
        self.assertEqual(section['total_credit'], -250.0)
        self.assertEqual(section['to_pay'], 750.0, "what is overdue, less the credits not yet applied")

        url = urlsplit(section['pay_url'])
        self.assertEqual(url.path, '/payment/pay')
        self.assertTrue(section['pay_url'].startswith(self.company.get_base_url().rstrip('/') + '/payment/pay?'))
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        self.assertEqual((float(query['amount']), int(query['partner_id']), int(query['currency_id']),
                          int(query['company_id'])),
                         (750.0, self.partner_a.id, self.company.currency_id.id, self.company.id))
        self.assertEqual(query['access_token'], payment_utils.generate_access_token(
            self.partner_a.id, 750.0, self.company.currency_id.id, env=self.env),
            "the token Odoo's payment form checks (payment_utils.check_access_token): no login needed")

    def test_one_section_per_currency_never_summed(self):
        self._followup_invoice(amount=1000.0, due='2026-01-31')
        euro = self._followup_invoice(amount=300.0, due='2026-01-20', currency_id=self.eur.id)
        statement = self._statement(self.partner_a)
        sections = {section['currency']: section for section in statement['sections']}
        self.assertEqual(list(sections), [self.company.currency_id, self.eur], "the company's currency first")
        self.assertEqual(sections[self.eur]['total_open'], 300.0, "in euros, not converted")
        self.assertEqual([line['name'] for line in sections[self.eur]['lines']], [euro.name])
        self.assertEqual(sections[self.company.currency_id]['total_open'], 1000.0)
        self.assertIn(f"currency_id={self.eur.id}", sections[self.eur]['pay_url'])

    def test_nothing_due_now_gives_no_pay_link(self):
        self._followup_invoice(amount=100.0, due='2026-01-31')
        self._refund(300.0)
        self._followup_invoice(amount=500.0, due='2026-03-31')
        statement = self._statement(self.partner_a)
        section = statement['sections'][0]
        self.assertEqual((section['total_open'], section['to_pay'], section['pay_url']), (300.0, 0.0, False))

    def test_payment_from_a_contact_is_netted_on_the_customer(self):
        contact = self.env['res.partner'].create({'name': 'A. Payer', 'parent_id': self.partner_a.id})
        self._followup_invoice(amount=1000.0)
        self._unmatched_payment(300.0, partner=contact)
        section = self._statement(self.partner_a)['sections'][0]
        self.assertEqual((section['total_open'], section['to_pay']), (700.0, 700.0))

    def test_customer_without_open_items_has_an_empty_statement(self):
        statement = self._statement(self.partner_b)
        self.assertTrue(statement['is_empty'])
        self.assertEqual(statement['sections'], [])


@tagged('post_install', '-at_install')
class TestStatementSend(StatementCommon, CronMixinCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner_c = cls.env['res.partner'].create({'name': 'No Address Ltd', 'is_company': True})
        cls.partner_d = cls.env['res.partner'].create(
            {'name': 'Settled Ltd', 'is_company': True, 'email': 'settled@example.com'})

    def _mails_to(self, partner):
        return self.env['mail.mail'].search([('recipient_ids', 'in', partner.ids)])

    def _statement_pdf(self, mail):
        return mail.attachment_ids.filtered(lambda attachment: attachment.name.startswith('Statement'))

    def test_consolidated_reminder_carries_the_statement(self):
        self.company.followup_consolidate = True
        first = self._followup_invoice(amount=1000.0, due='2026-01-31')
        second = self._followup_invoice(amount=500.0, due='2026-01-24')
        not_due = self._followup_invoice(amount=400.0, invoice_date='2026-02-01', due='2026-03-03')
        self._refund(150.0)
        with self._at('2026-02-07'):
            self._run_cron()
        mail = self._mails_to(self.partner_a)
        self.assertEqual(len(mail), 1, "one e-mail for the customer")
        statement = self._statement_pdf(mail)
        self.assertEqual(len(statement), 1, "the statement PDF is attached")
        self.assertEqual(mail.attachment_ids - statement, first.invoice_pdf_report_id | second.invoice_pdf_report_id,
                         "with each reminded invoice's PDF, as before")
        self.assertEqual((statement.res_model, statement.res_id), ('account.move', second.id),
                         "on the invoice holding the e-mail, never on the customer's record")
        document = statement.raw.decode()  # under tests Odoo renders reports as HTML
        for invoice in first | second | not_due:
            self.assertIn(invoice.name, document, "every open item, not only those reminded")
        self.assertIn('To pay now', mail.body_html)
        self.assertIn('1,350.00', mail.body_html, "1,500 overdue less the 150 credit note")
        # The chatter keeps the plain link; the e-mail carries it as a tracked link (opens and clicks).
        self.assertIn('/payment/pay?', mail.mail_message_id.body)
        self.assertIn('%2Fpayment%2Fpay%3F', mail.body_html)

    def test_send_statement_for_one_customer(self):
        overdue, _not_due, _refund, _payment = self._open_items()
        with self._at('2026-02-07'):
            self.partner_a.action_followup_send_statement()
        mail = self._mails_to(self.partner_a)
        self.assertEqual(len(mail), 1)
        self.assertIn('statement of your account', mail.subject)
        self.assertIn('750.00', mail.body_html)
        pdf = self._statement_pdf(mail)
        self.assertEqual(len(pdf), 1)
        self.assertIn(overdue.name, pdf.raw.decode())
        note = self.partner_a.message_ids[0]
        self.assertIn('e-mailed to customer.a@example.com', note.body)
        self.assertNotIn('750', note.body, "no amounts on the customer's record, which every user reads")

    def test_one_customer_without_address_or_open_items_is_told_why(self):
        self._followup_invoice(amount=100.0, partner=self.partner_c)
        with self.assertRaisesRegex(UserError, 'No Address Ltd has no valid e-mail address'):
            self.partner_c.action_followup_send_statement()
        with self.assertRaisesRegex(UserError, 'Settled Ltd has nothing open'):
            self.partner_d.action_followup_send_statement()
        self.assertFalse(self._mails_to(self.partner_c | self.partner_d))

    def _wizard(self, partners):
        return self.env['invoice.followup.statement.send'].with_context(
            active_model='res.partner', active_ids=partners.ids).create({})

    def test_a_few_customers_are_sent_now_and_the_others_counted(self):
        self._open_items()
        self._followup_invoice(amount=200.0, partner=self.partner_b)
        self._followup_invoice(amount=100.0, partner=self.partner_c)
        wizard = self._wizard(self.partner_a | self.partner_b | self.partner_c | self.partner_d)
        self.assertEqual((wizard.ready_count, wizard.skipped_count, wizard.in_background), (2, 2, False))
        with self._at('2026-02-07'):
            action = wizard.action_send()
        self.assertIn('2 statements sent. 2 skipped', action['params']['message'])
        self.assertIn('No Address Ltd has no valid e-mail address', action['params']['message'])
        self.assertEqual(len(self._mails_to(self.partner_a)), 1)
        self.assertEqual(len(self._mails_to(self.partner_b)), 1)

    def test_many_customers_are_sent_in_the_background_exactly_once(self):
        self.env['ir.config_parameter'].set_param('invoice_followup.statement_background_threshold', 2)
        self._open_items()
        self._followup_invoice(amount=200.0, partner=self.partner_b)
        self._followup_invoice(amount=100.0, partner=self.partner_c)
        customers = self.partner_a | self.partner_b | self.partner_c | self.partner_d
        with self._at('2026-02-07'), self.capture_triggers('invoice_followup.ir_cron_send_statements') as triggers:
            self._wizard(customers).action_send()
        self.assertEqual(len(triggers.records), 1, "the cron is woken up")
        self.assertFalse(self._mails_to(customers), "nothing sent in the request")
        request = self.env['invoice.followup.statement.request'].search([('partner_ids', 'in', customers.ids)])
        self.assertEqual(request.partner_ids, customers)

        cron = self.env.ref('invoice_followup.ir_cron_send_statements')
        with self._at('2026-02-07'), self.enter_registry_test_mode():
            cron.method_direct_trigger()
            cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(len(self._mails_to(self.partner_a)), 1, "one e-mail per customer, however many runs")
        self.assertEqual(len(self._mails_to(self.partner_b)), 1)
        self.assertFalse(self._mails_to(self.partner_c | self.partner_d))
        self.assertEqual((request.state, request.sent_count, request.skipped_count), ('done', 2, 2))
        self.assertFalse(request.partner_ids)
        self.assertIn('Settled Ltd has nothing open', request.note)
