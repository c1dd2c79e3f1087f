# Fed to `odoo shell` by scripts/run.sh: Odoo's demo payment provider (module payment_demo) takes the payments of the
# demo company, so that "Pay now" in a demo reminder pays: the provider in test mode, published, online payment of
# invoices on. Safe to run again.
company = env.ref('invoice_followup.invoice_late_8_demo').company_id  # noqa: F821 - `env` is provided by odoo shell
Provider = env['payment.provider']  # noqa: F821
provider = Provider.search([('code', '=', 'demo'), ('company_id', '=', company.id)], limit=1) or (
    env.ref('payment.payment_provider_demo').copy({'company_id': company.id}))  # noqa: F821
provider.write({'state': 'test', 'is_published': True})
env['ir.config_parameter'].set_param('account_payment.enable_portal_payment', True)  # noqa: F821
env.cr.commit()  # noqa: F821
print(f"payment provider {provider.name} enabled (test mode) for {company.name}")
