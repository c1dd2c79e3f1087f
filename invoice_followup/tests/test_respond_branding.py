# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo.tests import HttpCase, tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestRespondPageBranding(InvoiceFollowupCommon, HttpCase):
    """The self-service page opened by a visitor who is not logged in: Odoo's portal layout, branded as the invoice's
    company (not the public user's), in the customer's language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.name = 'Lumen Billing Ltd'
        cls.env['res.lang']._activate_lang('fr_FR')
        cls.partner_a.lang = 'fr_FR'
        cls.invoice = cls._followup_invoice(amount=1200.0, due='2026-01-31')
        cls.url = f'/invoice_followup/respond/{cls.invoice._followup_respond_token()}'

    def _get(self, url=None, headers=None):
        self.authenticate(None, None)
        response = self.url_open(url or self.url, headers=headers)
        self.assertEqual(response.status_code, 200)
        return response.text

    def test_portal_layout_with_the_invoice_company(self):
        public_company = self.env.ref('base.public_user').sudo().company_id
        self.assertNotEqual(public_company, self.company, "the visitor's company is not the invoice's")
        page = self._get()
        self.assertIn('o_portal_wrap', page, "the page uses the portal layout")
        self.assertIn(f'/logo.png?company={self.company.id}', page, "the invoice company's logo")
        self.assertNotIn(f'/logo.png?company={public_company.id}"', page)
        copyright_name = re.search(r'o_footer_copyright_name.*?itemprop="name">([^<]*)<', page, re.S)
        self.assertEqual(copyright_name and copyright_name.group(1), 'Lumen Billing Ltd',
                         "the portal footer names the invoice's company")
        self.assertIn(self.invoice.name, page)

    def test_in_the_customer_language(self):
        page = self._get()
        self.assertIn('<html lang="fr-FR"', page)
        self.assertIn('200,00', page, "amounts formatted as in French")
        self.assertNotIn('1,200.00', page)
        self.assertIn('31/01/2026', page, "dates formatted as in French")

    def test_a_language_chosen_by_the_visitor_wins(self):
        # The portal's language selector links to the page with the language in the URL (the default language's
        # prefix is taken out by Odoo, which remembers the choice in a cookie).
        page = self._get(f'/en{self.url}')
        self.assertIn('<html lang="en-US"', page)
        self.assertIn('1,200.00', page)
        self.partner_a.lang = 'en_US'
        page = self._get(f'/fr{self.url}')
        self.assertIn('<html lang="fr-FR"', page)
        self.assertIn(f'action="/fr{self.url}/promise"', page, "the answers are posted in the language chosen")

    def test_the_customer_language_not_the_browser_one(self):
        self.partner_a.lang = 'en_US'
        page = self._get(headers={'Accept-Language': 'fr-FR,fr;q=0.9'})
        self.assertIn('<html lang="en-US"', page)
        self.assertIn('1,200.00', page)
