"""Fixed user-facing labels, marked for translation and translated where shown."""

from __future__ import annotations

from collections.abc import Mapping

from bot.i18n import N_

CATEGORIES: Mapping[str, tuple[str, str]] = {  # category -> (icon, label)
    "cash_assistance": ("💵", N_("Cash assistance")),
    "income_generation": ("💼", N_("Jobs and business")),
    "vocational_training": ("🛠", N_("Skills training")),
    "housing_food": ("🏠", N_("Housing and food")),
    "legal_documentation": ("📄", N_("Papers and legal help")),
    "education": ("🎓", N_("School and education")),
    "health": ("🏥", N_("Health care")),
    "transport": ("🚌", N_("Transport")),
    "safety": ("🛡", N_("Safety and protection")),
    "psychosocial": ("💬", N_("Emotional support")),
    "family": ("👪", N_("Family")),
}

ASPECTS: Mapping[str, tuple[str, str]] = {  # aspect -> (icon, button label)
    "documents": ("📄", N_("Documents")),
    "eligibility": ("✅", N_("Who can get it")),
    "procedure": ("📝", N_("How to apply")),
    "location": ("📍", N_("Where & when")),
    "cost": ("💰", N_("Cost")),
}

VULNERABILITIES: Mapping[str, str] = {
    "victim_of_trafficking": N_("people who survived trafficking"),
    "unaccompanied_child": N_("children travelling alone"),
    "single_parent": N_("single parents"),
    "disability": N_("people with a disability"),
    "chronic_illness": N_("people with a long-term illness"),
    "pregnant": N_("pregnant women"),
    "elderly": N_("older people"),
    "survivor_of_violence": N_("survivors of violence"),
    "mental_health": N_("people with mental health needs"),
}
