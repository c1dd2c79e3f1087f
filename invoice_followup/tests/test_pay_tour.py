# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
import unittest
from urllib.parse import urlsplit

from odoo.fields import Command
from odoo.tests import HttpCase, tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestPayTour(InvoiceFollowupCommon, HttpCase):
    """The whole loop in a browser: a reminder goes out, the customer follows its "Pay now" link, pays with Odoo's
    demo provider, and the next run of the reminder cron sends that invoice nothing.

    Needs Odoo's ``payment_demo``, which scripts/test.sh (like ``make run``) installs: not a dependency of the add-on.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.env['ir.module.module']._get('payment_demo').state != 'installed':
            raise unittest.SkipTest(
                "payment_demo is not installed in this database: the pay-link tour needs Odoo's demo payment provider "
                "(scripts/test.sh installs it)")
        cls._enable_demo_provider(cls.company)
        cls.invoice = cls._followup_invoice(amount=1000.0, due='2026-01-31')
        cls.other_invoice = cls._followup_invoice(amount=400.0, due='2026-01-31')

    @classmethod
    def _enable_demo_provider(cls, company):
        """Odoo copies the installed providers into a new company, disabled: enable the demo one, as `make run` does."""
        Provider = cls.env['payment.provider'].sudo()
        provider = Provider.search([('code', '=', 'demo'), ('company_id', '=', company.id)], limit=1) or (
            cls.env.ref('payment.payment_provider_demo').sudo().copy({'company_id': company.id}))
        provider.write({
            'state': 'test',
            'is_published': True,
            'payment_method_ids': [Command.link(cls.env.ref('payment_demo.payment_method_demo').id)],
        })

    def _pay_link_of_last_reminder(self, invoice):
        mail = self.env['mail.mail'].sudo().search(
            [('mail_message_id', 'in', self._logs(invoice).mail_message_id.ids)], order='id desc', limit=1)
        self.assertTrue(mail, "the reminder went out")
        links = [link for link in re.findall(r'href="([^"]+)"', mail.body_html) if 'payment' in link]
        self.assertTrue(links, "the reminder has a pay link")
        url = urlsplit(links[0].replace('&amp;', '&'))
        return f'{url.path}?{url.query}#{url.fragment}'

    def _remind_pay_and_remind_again(self, start_url, tour):
        """A reminder goes out on Feb 7; the tour pays; the run of Feb 14 reminds the unpaid invoice only."""
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(len(self._logs(self.invoice)), 1)
        self.assertEqual(len(self._logs(self.other_invoice)), 1)

        self.start_tour(start_url(), tour)

        self.invoice.invalidate_recordset()
        self.assertIn(self.invoice.payment_state, ('paid', 'in_payment'), "the demo provider paid the invoice")
        self.assertEqual(self.invoice.transaction_ids.state, 'done')
        with self._at('2026-02-14'):
            self._run_cron()
        self.assertEqual(len(self._logs(self.invoice)), 1, "the paid invoice gets no more reminders")
        self.assertEqual(self.invoice.followup_state, 'done')
        self.assertEqual(len(self._logs(self.other_invoice)), 2, "the same run reminded the unpaid invoice")

    def test_pay_now_in_the_reminder(self):
        self._remind_pay_and_remind_again(
            lambda: self._pay_link_of_last_reminder(self.invoice), 'invoice_followup_pay_tour')

    def test_pay_now_on_the_self_service_page(self):
        self._remind_pay_and_remind_again(
            lambda: urlsplit(self.invoice.followup_portal_url).path, 'invoice_followup_respond_pay_tour')
