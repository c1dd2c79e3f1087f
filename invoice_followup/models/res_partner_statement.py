# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict
from urllib.parse import urlencode

from odoo import api, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import split_every

from odoo.addons.payment import utils as payment_utils

from ..tools.reminder_batch import can_batch_pdf
from .ir_actions_report import PDF_DOCUMENTS_PER_CALL
from .res_partner import FOLLOWUP_CONTROLLERS

# The reference prefix of what a statement's pay link pays (Odoo's payment form, see ``_pay_url``).
STATEMENT_PAY_PREFIX = 'STMT'
LINE_KINDS = ('invoice', 'credit_note', 'payment', 'other')
RENDERED_PDFS = 'invoice_followup_statement_pdfs'  # key in the cursor's cache: PDFs rendered for this batch


class InvoiceFollowupStatement(models.AbstractModel):
    """A customer's statement of account in one company: the one computation behind the statement PDF, the
    consolidated reminder e-mail and *Send Statement*.

    Every open receivable item of the customer, read in one query: posted invoices (overdue and not yet due, one
    line per installment), and netted as negative lines the credit notes and incoming payments not yet matched.
    One section per currency, each with its totals and one pay link for what is due now; never summed across
    currencies.
    """

    _name = 'invoice.followup.statement'
    _description = "Customer Statement"

    @api.model
    def _statements(self, partners, company, today=None):
        """{commercial partner: statement} of ``partners`` in ``company`` on ``today`` (the company's day).

        A statement is a dict: ``partner``, ``company``, ``date``, ``sections`` (a list, the company's currency
        first), ``is_empty``. A section: ``currency``, ``lines``, ``total_open`` (every item, credits netted),
        ``total_overdue`` (the invoices past due), ``total_credit`` (credit notes and payments not yet matched,
        negative), ``to_pay`` (overdue less those credits, never below 0) and ``pay_url``. A line: ``kind`` (one of
        ``LINE_KINDS``), ``move``, ``name``, ``date``, ``date_due``, ``days_overdue``, ``amount`` (original,
        signed) and ``residual`` (signed: negative for a credit).
        """
        customers = partners.commercial_partner_id
        today = today or company._followup_today()
        lines = self.env['account.move.line'].sudo().search_fetch(
            [('partner_id', 'child_of', customers.ids), ('company_id', '=', company.id),
             ('account_type', '=', 'asset_receivable'), ('parent_state', '=', 'posted'), ('reconciled', '=', False),
             ('amount_residual_currency', '!=', 0)],
            ['partner_id', 'move_id', 'currency_id', 'date', 'date_maturity', 'amount_currency',
             'amount_residual_currency'],
            order='date_maturity, date, id')
        lines.move_id.fetch(['name', 'move_type', 'invoice_date', 'origin_payment_id'])  # one read for all
        lines.partner_id.fetch(['commercial_partner_id'])  # a payment may name a contact of the customer
        by_customer = defaultdict(lambda: defaultdict(list))
        for line in lines:
            by_customer[line.partner_id.commercial_partner_id][line.currency_id].append(self._line(line, today))
        return {
            customer: self._statement(customer, company, today, by_customer.get(customer, {}))
            for customer in customers
        }

    @api.model
    def _line(self, line, today):
        move = line.move_id
        if move.move_type in ('out_invoice', 'out_receipt'):
            kind = 'invoice'
        elif move.move_type == 'out_refund':
            kind = 'credit_note'
        elif move.origin_payment_id:
            kind = 'payment'
        else:
            kind = 'other'
        date_due = line.date_maturity or line.date
        residual = line.amount_residual_currency
        days_overdue = (today - date_due).days if residual > 0 else 0
        return {
            'kind': kind, 'move': move, 'name': move.name, 'date': move.invoice_date or line.date,
            'date_due': date_due, 'days_overdue': max(days_overdue, 0),
            'amount': line.amount_currency, 'residual': residual,
        }

    @api.model
    def _statement(self, customer, company, today, lines_by_currency):
        currencies = sorted(lines_by_currency, key=lambda currency: (currency != company.currency_id, currency.name))
        sections = []
        for currency in currencies:
            lines = lines_by_currency[currency]
            overdue = sum(line['residual'] for line in lines if line['days_overdue'] > 0)
            credit = sum(line['residual'] for line in lines if line['residual'] < 0)
            to_pay = currency.round(max(overdue + credit, 0.0))
            sections.append({
                'currency': currency, 'lines': lines,
                'total_open': currency.round(sum(line['residual'] for line in lines)),
                'total_overdue': currency.round(overdue), 'total_credit': currency.round(credit),
                'to_pay': to_pay,
                'pay_url': self._pay_url(customer, company, currency, to_pay),
            })
        return {'partner': customer, 'company': company, 'date': today, 'sections': sections,
                'is_empty': not sections}

    @api.model
    def _pay_url(self, customer, company, currency, amount):
        """Odoo's payment link (``/payment/pay``) for ``amount``: the customer pays without an account, the token
        covers this customer, amount and currency only. False when nothing is due."""
        if currency.is_zero(amount):
            return False
        token = payment_utils.generate_access_token(customer.id, amount, currency.id, env=self.env)
        query = urlencode({
            'reference': f'{STATEMENT_PAY_PREFIX}/{customer.ref or customer.id}', 'amount': amount,
            'currency_id': currency.id, 'partner_id': customer.id, 'company_id': company.id, 'access_token': token,
        })
        return f"{company.get_base_url().rstrip('/')}/payment/pay?{query}"

    @api.model
    def _check_sendable(self, statement):
        """The reason ``statement`` cannot be e-mailed, in the user's words; False when it can."""
        customer = statement['partner']
        if statement['is_empty']:
            return self.env._("%(customer)s has nothing open in %(company)s: there is no statement to send.",
                              customer=customer.display_name, company=statement['company'].name)
        if not customer._followup_statement_recipient():
            return self.env._("%(customer)s has no valid e-mail address: add one to send the statement.",
                              customer=customer.display_name)
        return False

    # -------------------------------------------------------------------------
    # PDF AND E-MAIL
    # -------------------------------------------------------------------------

    @api.model
    def _report(self, company):
        # No wait for scripts (see ir_actions_report): a statement, like an invoice, builds nothing with JavaScript.
        return self.env.ref('invoice_followup.action_report_followup_statement').sudo().with_company(
            company).with_context(followup_invoice_pdf=True)

    @api.model
    def _prepare_pdfs(self, logs, company):
        """Render the statements a batch of reminders e-mails, several per call: those of the customers with several
        reminders in ``logs`` (``_send_emails`` consolidates them)."""
        return self._render_pdfs(self.env['res.partner'].union(*(
            customer for customer, group in logs.grouped(lambda log: log.move_id.commercial_partner_id).items()
            if len(group) > 1)), company)

    @api.model
    def _render_pdfs(self, customers, company):
        """Render the statements of ``customers``, several per wkhtmltopdf call, for ``_render_pdf`` to take them.
        Without a patched wkhtmltopdf (one document per call) or under tests, nothing: ``_render_pdf`` renders them
        one by one. :return: {(customer id, company id): raw PDF}"""
        cache = self.env.cr.cache[RENDERED_PDFS] = {}
        if len(customers) < 2 or not can_batch_pdf(self.env):
            return cache
        report = self._report(company)
        for chunk in split_every(PDF_DOCUMENTS_PER_CALL, customers.ids, list):
            streams, kind = report._pre_render_qweb_pdf(report, res_ids=chunk)
            if kind != 'pdf' or set(streams) != set(chunk):
                return cache  # HTML under tests, or a PDF that could not be split: rendered one by one
            cache.update({(customer_id, company.id): data['stream'].getvalue()
                          for customer_id, data in streams.items()})
        return cache

    @api.model
    def _render_pdf(self, customer, company):
        """The statement PDF of ``customer`` in ``company``: (file name, raw PDF)."""
        raw = self.env.cr.cache.get(RENDERED_PDFS, {}).pop((customer.id, company.id), None)
        if raw is None:
            report = self._report(company)
            raw, _format = report._render_qweb_pdf(report, customer.ids)
        return self._file_name(customer, company), raw

    @api.model
    def _file_name(self, customer, company):
        name = self.env._("Statement - %(customer)s - %(company)s", customer=customer.name, company=company.name)
        return f"{name.replace('/', '-')}.pdf"

    @api.model
    def _attach_pdf(self, customer, record, company=None):
        """The statement PDF of ``customer`` in ``company`` (default: the record's), attached to ``record`` (the
        invoice or customer the e-mail is posted on)."""
        name, raw = self._render_pdf(customer, company or record.company_id)
        return self.env['ir.attachment'].sudo().create({
            'name': name, 'raw': raw, 'mimetype': 'application/pdf', 'res_model': record._name, 'res_id': record.id,
        })

    @api.model
    def _send(self, customer, company):
        """E-mail the statement to ``customer`` now (the template, the PDF attached); a note on the customer says so,
        without the amounts (every internal user reads a customer's record). Raise UserError when it cannot go."""
        customer = customer.commercial_partner_id.with_company(company)
        statement = self._statements(customer, company)[customer]
        if reason := self._check_sendable(statement):
            raise UserError(reason)
        recipient = customer._followup_statement_recipient()
        template = self.env.ref('invoice_followup.mail_template_followup_consolidated').with_company(company)
        attachment = self._attach_pdf(customer, customer, company)
        mail_id = template.sudo().send_mail(customer.id, email_layout_xmlid='mail.mail_notification_light',
                                            email_values={'recipient_ids': [(6, 0, recipient.ids)],
                                                          'attachment_ids': [(4, attachment.id)]})
        customer.message_post(body=self.env._(
            "Statement of account of %(company)s e-mailed to %(email)s.", company=company.name,
            email=recipient.email))
        return self.env['mail.mail'].sudo().browse(mail_id)


class InvoiceFollowupStatementMixin(models.AbstractModel):
    """Part of ``res.partner`` (which inherits it below): the customer's statement and its *Print Statement* and
    *Send Statement* buttons. ``self`` is always a partner."""

    _name = 'invoice.followup.statement.mixin'
    _description = "Customer: Statement"

    def _followup_statement(self):
        """This customer's statement in the current company (what the e-mail template and the PDF show)."""
        self.ensure_one()
        customer = self.commercial_partner_id
        return self.env['invoice.followup.statement']._statements(customer, self.env.company)[customer]

    def _followup_statement_company(self):
        """The company whose statement is shown: the current one (the engine and the report set it)."""
        return self.env.company

    def _followup_statement_recipient(self):
        """Who receives the statement: the customer, else its first invoicing contact, with a usable address."""
        self.ensure_one()
        customer = self.commercial_partner_id
        candidates = customer | customer.child_ids.filtered(lambda child: child.type == 'invoice')
        return candidates.filtered(lambda partner: partner.email_normalized and not partner.is_blacklisted)[:1]

    def _followup_check_statement_rights(self):
        if not self.env.user.has_group(FOLLOWUP_CONTROLLERS):
            raise AccessError(self.env._("Only billing users may print or send customer statements."))

    def action_followup_print_statement(self):
        self._followup_check_statement_rights()
        return self.env.ref('invoice_followup.action_report_followup_statement').report_action(
            self.commercial_partner_id)

    def action_followup_send_statement(self):
        """*Send Statement*: one customer now (a clear error if it cannot go); several through the wizard."""
        self._followup_check_statement_rights()
        customers = self.commercial_partner_id
        if len(customers) == 1:
            self.env['invoice.followup.statement']._send(customers, self.env.company)
            return {'type': 'ir.actions.client', 'tag': 'display_notification', 'params': {
                'type': 'success', 'message': self.env._("Statement sent to %(customer)s.",
                                                         customer=customers.display_name),
                'next': {'type': 'ir.actions.act_window_close'}}}
        return {
            'type': 'ir.actions.act_window', 'name': self.env._("Send Statements"),
            'res_model': 'invoice.followup.statement.send', 'view_mode': 'form', 'target': 'new',
            'context': {'default_partner_ids': customers.ids},
        }


class ResPartner(models.Model):
    _name = 'res.partner'
    _inherit = ['res.partner', 'invoice.followup.statement.mixin']
