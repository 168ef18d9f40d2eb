"""The report form's words: its choices, its fields and what to fix, in plain words.

Message ids (`N_`), translated where the form is shown.
"""

from __future__ import annotations

from concord.web.i18n import N_

#: The categories and motivations in plain words (the form's choices).
CATEGORY_WORDS = {
    "hate_crime": N_("Violence or a threat because of who someone is"),
    "hate_speech": N_("Hateful words said or written in public"),
    "online_hate": N_("Hate online or on social media"),
    "discrimination": N_("Treated unfairly: housing, work, a shop, a service"),
    "harassment": N_("Insults or harassment, again and again"),
    "vandalism": N_("Graffiti or damage to a place"),
    "intergroup_conflict": N_("Conflict between groups in the neighbourhood"),
    "rumour": N_("A rumour that could turn people against a group"),
    "demonstration": N_("A gathering or march against a group"),
    "other": N_("Something else"),
}
BIAS_WORDS = {
    "anti_muslim": N_("against Muslims"),
    "anti_black": N_("against Black people"),
    "antisemitic": N_("against Jews"),
    "anti_roma": N_("against Roma"),
    "anti_migrant": N_("against migrants or refugees"),
    "anti_asian": N_("against people of Asian origin"),
    "other": N_("another reason"),
}
ROLE_WORDS = {
    "victim": N_("It happened to me"),
    "witness": N_("I saw it happen"),
    "on_behalf": N_("I report for someone else"),
    "organisation": N_("I report for an organisation (NGO, school, association)"),
}
#: What to fix, per field, in plain words (the form's language): never a validator's text.
FIELD_ERRORS = {
    "category": N_("Choose what happened."),
    "bias": N_("Choose among the reasons listed, or none."),
    "summary": N_("Tell us what happened, in 4,000 characters at most."),
    "area": N_("Choose the area on the list."),
    "place": N_("Write the place in 200 characters at most."),
    "occurred_at": N_("Give the day and time it happened; it cannot be in the future."),
    "reporter_role": N_("Choose who is reporting."),
    "organisation": N_("Write the organisation's name in 200 characters at most."),
    "wants": N_(
        "A report you only want counted is not followed up: untick the contact and "
        "the referral, or choose to have it acted on."
    ),
    "url": N_("Write the address in 2,000 characters at most."),
    "seen_at": N_("Give the day and time you saw it; it cannot be in the future."),
    "contact": N_(
        "Give an email address or a phone number where we can reach you, or untick "
        "the box if we may not contact you."
    ),
}
#: The fields as the form names them (the list of what to fix links to each).
FIELD_NAMES = {
    "category": N_("What happened?"),
    "bias": N_("Why, do you think? (you may tick several, or none)"),
    "summary": N_("Tell us what happened"),
    "area": N_("Where? (area)"),
    "place": N_("The place, if you wish (a street, a stop, a school)"),
    "occurred_at": N_("When?"),
    "reporter_role": N_("Who is reporting?"),
    "organisation": N_("Name of the organisation (if you report for one)"),
    "contact": N_("Email or phone"),
    "wants": N_("What would you like us to do?"),
    "url": N_("The address (URL) of the post or page"),
    "seen_at": N_("When you saw it"),
}
#: Anything else the checks refuse (it names no field a person typed in).
OTHER_ERROR = N_("Something in the report could not be read: please check it and send again.")
#: What to fix about a file, by the status it was refused with (`%(file)s`: its name).
FILE_ERRORS = {
    413: N_("%(file)s is larger than 10 MB: attach a smaller file, or a screenshot of it."),
    415: N_("%(file)s is not a photo (JPEG, PNG or WebP), a PDF or a text file."),
    422: N_("%(file)s could not be read, or is one file too many (5 at most)."),
}
#: The bias indicators in plain words (OSCE ODIHR's: what points to a bias motivation).
INDICATOR_WORDS = {
    "language": N_("Words said or written about a group (insults, slurs)"),
    "symbols": N_("Symbols, graffiti, gestures or flags"),
    "date": N_("It happened on a day that matters (a feast, a commemoration)"),
    "perception": N_("The person targeted felt it was because of who they are"),
    "statements": N_("What the person who did it said before, during or after"),
    "location": N_("The place matters (a place of worship, a community centre)"),
}
STATUS_WORDS = {
    "referred": N_("Passed on: the body competent for your report handles it."),
    "registered": N_(
        "Registered: your report is counted in the city's figures. As you asked, "
        "nobody will follow it up or contact you."
    ),
    "received": N_("Received: your report is recorded and will be looked at."),
    "being_handled": N_("Being handled: the city's services are working on it."),
    "closed": N_("Closed: the services finished their work on it."),
}
