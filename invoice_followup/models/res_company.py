# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import email_normalize


class ResCompany(models.Model):
    _inherit = 'res.company'

    followup_automation = fields.Boolean(
        string="Automatic Reminders",
        default=True,
        help="Send invoice reminders automatically, every day, following the policies.",
    )
    followup_policy_id = fields.Many2one(
        'invoice.followup.policy',
        string="Default Follow-up Policy",
        check_company=True,
        default=lambda self: self._default_followup_policy_id(),
    )
    followup_business_days = fields.Boolean(
        string="Business Days Only",
        help="A reminder falling on a weekend or a company holiday (working-time calendar) "
        "moves to the next working day.",
    )
    followup_min_amount = fields.Monetary(
        string="Minimum Amount to Remind",
        currency_field='currency_id',
        help="Invoices with an amount due at or below this amount are not reminded.",
    )
    followup_min_gap_days = fields.Integer(
        string="Minimum Days Between Reminders",
        help="Never remind the same customer twice within this number of days (0: no limit).",
    )
    followup_consolidate = fields.Boolean(
        string="One E-mail per Customer",
        help="When several invoices of a customer are due for a reminder the same day, "
        "send them in a single e-mail.",
    )
    followup_notify_followers = fields.Boolean(
        string="Copy Reminders to Followers",
        help="E-mail the invoice's internal followers a copy of every reminder (by default only the customer gets it; "
        "the reminder is in the invoice's chatter either way).",
    )
    followup_promise_days = fields.Integer(
        string="Promise-to-Pay Horizon",
        default=30,
        help="How many days ahead a customer may promise to pay, or spread a payment plan, from the portal.",
    )
    followup_tracking = fields.Boolean(
        string="Track Opens and Clicks",
        default=True,
        help="Reminder e-mails carry a tracking image and tracked links: each reminder records when the customer first "
        "opened it and which link they followed first. Off: no tracking image, plain links, nothing recorded.",
    )
    followup_test_mode = fields.Boolean(
        string="Test Mode",
        help="Redirect every reminder to the test address instead of the customers.",
    )
    followup_test_email = fields.Char(string="Test Address")
    followup_user_id = fields.Many2one(
        'res.users',
        string="Collections Responsible",
        domain="[('share', '=', False), ('company_ids', 'in', id)]",
        help="Gets the calls and to-dos of invoices without a salesperson (issued by a schedule, a milestone or "
        "an import) when their policy names no collector. Empty: the company's first billing administrator.",
    )

    def _default_followup_policy_id(self):
        return self.env.ref('invoice_followup.policy_standard', raise_if_not_found=False)

    @api.constrains('followup_test_mode', 'followup_test_email', 'followup_min_gap_days', 'followup_min_amount',
                    'followup_promise_days')
    def _check_followup_settings(self):
        for company in self:
            if company.followup_test_mode and not email_normalize(company.followup_test_email or ''):
                raise ValidationError(self.env._(
                    "Test mode sends every reminder to one internal address: enter a valid e-mail address."))
            numbers = (company.followup_min_gap_days, company.followup_min_amount, company.followup_promise_days)
            if any(number < 0 for number in numbers):
                raise ValidationError(self.env._(
                    "The minimum amount and the minimum days between reminders cannot be negative."))

    @api.constrains('followup_policy_id')
    def _check_followup_policy_company(self):
        # res.company does not check its companies on write (no _check_company_auto): a policy of another company
        # would drive this company's reminders.
        self._check_company(['followup_policy_id'])

    def write(self, vals):
        res = super().write(vals)
        if 'followup_policy_id' in vals:
            self.env['account.move']._followup_propagate_policy(Domain('company_id', 'in', self.ids))
        return res

    @api.model
    def _followup_set_default_policy(self):
        """On install: companies without a default policy get the shipped Standard policy."""
        policy = self._default_followup_policy_id()
        if policy:
            self.search([('followup_policy_id', '=', False)]).followup_policy_id = policy

    def _followup_responsible(self):
        """The person who handles the company's collections when an invoice has nobody of its own: the Collections
        Responsible, else a billing administrator of the company, else a billing user. Never OdooBot."""
        self.ensure_one()
        if self.followup_user_id and self.followup_user_id._followup_is_person():
            return self.followup_user_id
        Users = self.env['res.users'].sudo()
        for group in ('account.group_account_manager', 'account.group_account_invoice'):
            users = Users.search([('all_group_ids', 'in', self.env.ref(group).id), ('company_ids', 'in', self.id),
                                  ('share', '=', False)], order='id')
            for user in users:
                if user._followup_is_person():
                    return user.sudo(False)
        return Users.browse()

    def _followup_today(self):
        """Today in the company's timezone (its working calendar's, else its partner's, else UTC)."""
        self.ensure_one()
        tz_name = self.resource_calendar_id.tz or self.partner_id.tz or 'UTC'
        return datetime.now(pytz.timezone(tz_name)).date()

    def _followup_shift_to_working_day(self, dates):
        """Map each date to itself, or to the next working day when business days only is set.

        :param dates: iterable of dates
        :return: dict date -> shifted date
        """
        self.ensure_one()
        dates = set(filter(None, dates))
        calendar = self.resource_calendar_id
        if not self.followup_business_days or not calendar or not dates:
            return {day: day for day in dates}
        holidays = self._followup_holidays(min(dates), max(dates) + timedelta(days=60))
        shifted = {}
        for day in dates:
            candidate = day
            for _attempt in range(60):
                if calendar._works_on_date(candidate) and candidate not in holidays:
                    break
                candidate += timedelta(days=1)
            shifted[day] = candidate
        return shifted

    def _followup_holidays(self, date_from, date_to):
        """Whole days off of the company calendar (public holidays) between two dates."""
        calendar = self.resource_calendar_id
        leaves = self.env['resource.calendar.leaves'].sudo().search([
            ('resource_id', '=', False),
            ('calendar_id', 'in', (calendar.id, False)),
            ('company_id', 'in', (self.id, False)),
            ('date_from', '<=', datetime.combine(date_to, time.max)),
            ('date_to', '>=', datetime.combine(date_from, time.min)),
        ])
        days = set()
        for leave in leaves:
            day = leave.date_from.date()
            while day <= leave.date_to.date():
                days.add(day)
                day += timedelta(days=1)
        return days
