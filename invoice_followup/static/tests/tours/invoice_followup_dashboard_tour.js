import { registry } from "@web/core/registry";

const OPEN_CASES_CARD = ".o_form_view button.o_invoice_followup_kpi[data-kpi='open_cases']";

registry.category("web_tour.tours").add("invoice_followup_dashboard_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open the accounting app",
            trigger: ".o_app[data-menu-xmlid='account.menu_finance']",
            run: "click",
        },
        {
            content: "Open the Reporting menu of the accounting app",
            trigger: ".o_menu_sections [data-menu-xmlid='account.menu_finance_reports']",
            run: "click",
        },
        {
            content: "Reporting › Collections › Collections Dashboard",
            trigger: ".dropdown-item[data-menu-xmlid='invoice_followup.invoice_followup_dashboard_menu']",
            run: "click",
        },
        {
            content: "The dashboard has a readable title, not a technical record name",
            trigger: ".o_breadcrumb:contains('Collections Dashboard'):not(:contains('NewId'))",
        },
        {
            content: "The Open Cases card shows the case of the tour customer next to the previous period",
            trigger: `${OPEN_CASES_CARD}:contains('Previous period') .o_field_widget[name='open_cases']:contains('1')`,
        },
        {
            content: "Open the cases behind the figure",
            trigger: OPEN_CASES_CARD,
            run: "click",
        },
        {
            content: "The cases open at the end of the period are listed by reason: open the disputes",
            trigger: ".o_list_view .o_group_header:contains('Dispute')",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Dashboard Tour Customer')",
        },
    ],
});
