"""What a dealership's data is made of: organizations, campaigns with their query
params, and the pools customers and vehicles are drawn from.

Everything here is fixed text; dates are counted in days from "today" so that a
demo loaded on any day looks current. Contact details stay harmless on purpose:
valid phone numbers use the 555-01XX lines that North American numbering keeps
for fiction, and valid emails use the domains reserved for examples (RFC 2606),
so a downstream system that ever sent to the demo would reach nobody.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrganizationSpec:
    name: str
    country: str
    timezone: str
    share: int  # percent of the demo's customers
    area_codes: tuple[str, ...]
    cultures: tuple[tuple[str, int], ...]  # name culture, weight


ORGANIZATIONS = (
    OrganizationSpec(
        "Maple Leaf Motors", "CA", "America/Toronto", 30,
        ("416", "647", "437", "905", "289", "365"),
        (("english", 45), ("french", 25), ("south_asian", 10), ("vietnamese", 6), ("irish", 8), ("german", 6)),
    ),
    OrganizationSpec(
        "Pacific Coast Auto Group", "CA", "America/Vancouver", 15,
        ("604", "778", "236", "250"),
        (("english", 40), ("chinese", 20), ("south_asian", 15), ("french", 8), ("irish", 7), ("vietnamese", 10)),
    ),
    OrganizationSpec(
        "Lone Star Auto Group", "US", "America/Chicago", 25,
        ("214", "469", "972", "817", "512", "713", "832", "210"),
        (("english", 45), ("hispanic", 35), ("vietnamese", 8), ("german", 6), ("irish", 6)),
    ),
    OrganizationSpec(
        "Bayview Motors", "US", "America/Los_Angeles", 15,
        ("213", "310", "323", "424", "562", "626", "714", "818"),
        (("english", 35), ("hispanic", 35), ("chinese", 12), ("vietnamese", 10), ("irish", 8)),
    ),
    OrganizationSpec(
        "Empire State Auto Mall", "US", "America/New_York", 15,
        ("212", "347", "516", "631", "646", "718", "914", "917"),
        (("english", 40), ("irish", 15), ("hispanic", 20), ("german", 10), ("chinese", 10), ("french", 5)),
    ),
)


@dataclass(frozen=True)
class QueryParamSpec:
    name: str
    criterion: dict
    event_key: str | None = None
    active: bool = True


@dataclass(frozen=True)
class CampaignSpec:
    """A campaign and how the downstream systems have already enrolled into it.

    ``enroll`` names the rule (in :mod:`enroller_desktop.demo.generate`) that
    recognises a customer's vehicle as a past candidate; ``enroll_rate`` is the
    share of those candidates already enrolled, ``enroll_window`` how many days
    back their enrollments go, ``starts_in``/``ends_in`` are days from today.
    """

    organization: int  # index into ORGANIZATIONS
    name: str
    channels: str  # letters of the channels used: E email, P phone, S SMS
    params: tuple[QueryParamSpec, ...]
    active: bool = True
    starts_in: int | None = None
    ends_in: int | None = None
    expire_after_days: int | None = None
    marketing_exclusion_days: int | None = None
    exclusion_exempt: bool = False
    excluded_tags: tuple[str, ...] = ()
    enroll: str | None = None
    enroll_rate: float = 0.0
    enroll_window: tuple[int, int] = (1, 120)
    repeat_rate: float = 0.0  # share that also has an older, completed event of the same kind


def _f(field_: str, op: str, value=None) -> dict:
    clause = {"field": field_, "op": op}
    if value is not None:
        clause["value"] = value
    return clause


def campaigns(this_year: int) -> tuple[CampaignSpec, ...]:
    """The demo's campaigns; recall years follow the calendar so they stay plausible."""
    service_due = QueryParamSpec(
        "Service overdue 6 months",
        {"all": [_f("vehicle.last_service_date", "older_than_days", 180), {"not": _f("vehicle.make", "in", ["Tesla"])}]},
        "vehicle.last_service_date",
    )
    never_serviced = QueryParamSpec(
        "Never serviced, bought over 6 months ago",
        {"all": [_f("vehicle.last_service_date", "is_null"), _f("vehicle.purchase_date", "older_than_days", 180)]},
        "vehicle.purchase_date",
    )
    lease_maturity = QueryParamSpec(
        "Lease ends within 90 days", _f("vehicle.lease_end_date", "within_next_days", 90), "vehicle.lease_end_date"
    )
    return (
        CampaignSpec(
            0, "Service Due Reminder", "EPS", (service_due, never_serviced),
            starts_in=-900, expire_after_days=60, marketing_exclusion_days=14, excluded_tags=("Fleet", "Deceased"),
            enroll="service_due", enroll_rate=0.25, enroll_window=(1, 150), repeat_rate=0.25,
        ),
        CampaignSpec(
            0, "Lease Maturity 90 Days", "P",
            (
                lease_maturity,
                QueryParamSpec("Lease ended in the last 30 days", _f("vehicle.lease_end_date", "within_last_days", 30), "vehicle.lease_end_date"),
                QueryParamSpec(
                    "Lease ends within 180 days (paused by the sales manager)",
                    _f("vehicle.lease_end_date", "within_next_days", 180), "vehicle.lease_end_date", active=False,
                ),
            ),
            starts_in=-700, expire_after_days=120, enroll="lease", enroll_rate=0.6, enroll_window=(1, 90),
        ),
        CampaignSpec(
            0, "Win Back Lapsed Customers", "E",
            (
                QueryParamSpec(
                    "No purchase in 3 years",
                    {"all": [_f("customer.last_purchase_at", "older_than_days", 1095), {"not": _f("customer.tags", "has_tag", "Deceased")}]},
                ),
            ),
            starts_in=-400, marketing_exclusion_days=30, excluded_tags=("Do Not Market",),
            enroll="win_back", enroll_rate=0.2, enroll_window=(1, 300),
        ),
        CampaignSpec(
            1, "Warranty Expiry Protection", "ES",
            (
                QueryParamSpec("Factory warranty ends within 60 days", _f("vehicle.warranty_end_date", "within_next_days", 60), "vehicle.warranty_end_date"),
                QueryParamSpec(
                    "High mileage, warranty ends within 120 days",
                    {"all": [_f("vehicle.warranty_end_date", "within_next_days", 120), _f("vehicle.odometer", "ge", 80000)]},
                    "vehicle.warranty_end_date",
                ),
            ),
            starts_in=-500, expire_after_days=45, marketing_exclusion_days=7, excluded_tags=("Deceased",),
            enroll="warranty", enroll_rate=0.45, enroll_window=(1, 60),
        ),
        CampaignSpec(
            1, "Airbag Inflator Recall", "EP",
            (
                QueryParamSpec(
                    "Honda and Acura, affected model years",
                    {"all": [_f("vehicle.make", "in", ["Honda", "Acura"]), _f("vehicle.year", "between", [this_year - 12, this_year - 7])]},
                    "vehicle.vin",
                ),
                QueryParamSpec(
                    "Toyota and Lexus, affected model years",
                    {"all": [_f("vehicle.make", "in", ["Toyota", "Lexus"]), _f("vehicle.year", "between", [this_year - 8, this_year - 6])]},
                    "vehicle.vin",
                ),
            ),
            starts_in=-200, exclusion_exempt=True, enroll="recall", enroll_rate=0.5, enroll_window=(1, 200),
        ),
        CampaignSpec(
            1, "Winter Tire Promotion", "ES",
            (QueryParamSpec("Vehicles 2 to 10 years old", _f("vehicle.year", "between", [this_year - 10, this_year - 2])),),
            active=False, starts_in=-420, expire_after_days=30, marketing_exclusion_days=21,
            enroll="winter_tires", enroll_rate=0.05, enroll_window=(200, 400),
        ),
        CampaignSpec(
            2, "First Service Reminder", "S",
            (
                QueryParamSpec(
                    "Bought in the last 120 days, not yet serviced",
                    {"all": [_f("vehicle.purchase_date", "within_last_days", 120), _f("vehicle.last_service_date", "is_null")]},
                    "vehicle.purchase_date",
                ),
            ),
            starts_in=-365, expire_after_days=30, enroll="first_service", enroll_rate=0.5, enroll_window=(1, 45),
        ),
        CampaignSpec(
            2, "Service Due Reminder", "EPS",
            (
                QueryParamSpec("Service overdue 1 year", _f("vehicle.last_service_date", "older_than_days", 365), "vehicle.last_service_date"),
                QueryParamSpec("Service overdue 6 months", _f("vehicle.last_service_date", "older_than_days", 180), "vehicle.last_service_date"),
                never_serviced,
            ),
            starts_in=-1000, expire_after_days=60, marketing_exclusion_days=14, excluded_tags=("Fleet", "Deceased"),
            enroll="service_due", enroll_rate=0.18, enroll_window=(1, 150), repeat_rate=0.2,
        ),
        CampaignSpec(
            3, "VIP Appreciation", "PS",
            (
                QueryParamSpec("Birthday this month", _f("customer.tags", "has_tag", "Birthday This Month")),
                QueryParamSpec("VIP and loyalty club", {"any": [_f("customer.tags", "has_tag", "VIP"), _f("customer.tags", "has_tag", "Loyalty Club")]}),
            ),
            starts_in=-300, marketing_exclusion_days=30, excluded_tags=("Employee", "Deceased"),
            enroll="vip", enroll_rate=0.3, enroll_window=(1, 280),
        ),
        CampaignSpec(
            3, "Year-End Sales Event", "ES",
            (QueryParamSpec("Vehicles 5 years and older", _f("vehicle.year", "le", this_year - 5)),),
            starts_in=-95, ends_in=-20, expire_after_days=30, marketing_exclusion_days=10, excluded_tags=("Do Not Market",),
            enroll="trade_up", enroll_rate=0.12, enroll_window=(21, 95),
        ),
        CampaignSpec(
            3, "Lease Maturity", "EP", (lease_maturity,),
            starts_in=-600, expire_after_days=100, enroll="lease", enroll_rate=0.6, enroll_window=(1, 90),
        ),
        CampaignSpec(
            4, "Spring Service Clinic", "EP",
            (
                QueryParamSpec(
                    "Serviced here before, not in 6 months",
                    {"all": [_f("vehicle.last_service_date", "older_than_days", 180), _f("vehicle.purchase_date", "ge", f"{this_year - 10}-01-01")]},
                    "vehicle.last_service_date",
                ),
            ),
            starts_in=30, ends_in=75, expire_after_days=21,
        ),
        CampaignSpec(
            4, "Trade-In Equity Review (draft, no channel chosen)", "",
            (QueryParamSpec("Older high-mileage vehicles", {"all": [_f("vehicle.year", "le", this_year - 6), _f("vehicle.odometer", "ge", 100000)]}),),
            starts_in=-30,
        ),
        CampaignSpec(
            4, "High Mileage Service", "PS",
            (
                QueryParamSpec(
                    "Over 120,000 and not serviced in 90 days",
                    {"all": [_f("vehicle.odometer", "ge", 120000), _f("vehicle.last_service_date", "older_than_days", 90)]},
                    "vehicle.last_service_date",
                ),
            ),
            starts_in=-250, expire_after_days=45, marketing_exclusion_days=14,
            enroll="high_mileage", enroll_rate=0.3, enroll_window=(1, 90),
        ),
    )


# Names as dealerships receive them. Each culture: first names, last names.
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "english": (
        ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
         "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Chris", "Karen",
         "Daniel", "Emily", "Matthew", "Ashley", "Anthony", "Megan", "Mark", "Amanda", "Steven", "Melissa",
         "Paul", "Rebecca", "Andrew", "Laura", "Joshua", "Nicole", "Kevin", "Hannah", "Brian", "Olivia"),
        ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
         "Thomas", "Moore", "Martin", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker",
         "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Campbell", "MacDonald",
         "Stewart", "Mitchell", "Ross", "Reid", "Fraser", "Hughes", "Parker-Jones", "St. John", "Van Der Berg", "Smyth"),
    ),
    "french": (
        ("Émilie", "François", "Hélène", "Jérôme", "Geneviève", "Stéphane", "Chloé", "Benoît", "Mélanie", "Frédéric",
         "Marie-Ève", "Jean-François", "Anne-Sophie", "Pierre-Luc", "Josée", "Rémi", "Noémie", "Gaétan", "Élise", "Amélie",
         "Luc", "Sylvie", "André", "Nathalie", "Martin", "Isabelle", "Éric", "Valérie", "Guy", "Céline"),
        ("Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin", "Gagné",
         "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron", "Leblanc", "Paquette", "Girard", "Simard", "Boucher",
         "D'Amours", "D'Anjou", "L'Heureux", "St-Pierre", "Lefèbvre", "Bédard", "Thériault", "Hébert", "Poirier", "Dubé"),
    ),
    "irish": (
        ("Sean", "Siobhán", "Aoife", "Liam", "Niamh", "Ciarán", "Róisín", "Patrick", "Bridget", "Declan",
         "Eoin", "Saoirse", "Conor", "Máire", "Brendan", "Orla", "Seamus", "Kathleen", "Dermot", "Caoimhe"),
        ("O'Brien", "O'Neill", "O'Connor", "O'Sullivan", "McCarthy", "Murphy", "Kelly", "Byrne", "Ryan", "Walsh",
         "O'Reilly", "Doyle", "McLaughlin", "Ó Briain", "Fitzgerald", "Gallagher", "O'Donnell", "Kennedy", "Quinn", "Nolan"),
    ),
    "german": (
        ("Jürgen", "Günter", "Jörg", "Uwe", "Björn", "Käthe", "Anja", "Klaus", "Sören", "Ute",
         "Heinz", "Gisela", "Dieter", "Brigitte", "Lars", "Mareike", "Stefan", "Ines", "Tobias", "Jana"),
        ("Müller", "Schäfer", "Schröder", "Größ", "Köhler", "Weiß", "Becker", "Hoffmann", "Krüger", "Wagner",
         "Schmidt", "Meyer", "Fischer", "Vogel", "Zimmermann", "Böhm", "Neumann", "Jäger", "Schulz", "Bauer"),
    ),
    "hispanic": (
        ("José", "María", "Juan", "Guadalupe", "Luis", "Sofía", "Jesús", "Ana", "Carlos", "Lucía",
         "Miguel Ángel", "Verónica", "Andrés", "Mónica", "Raúl", "Inés", "Iñigo", "Marisol", "Héctor", "Adrián",
         "Alejandro", "Carmen", "Diego", "Rosa", "Fernando", "Elena", "Ricardo", "Patricia", "Javier", "Gabriela"),
        ("García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez", "Ramírez", "Torres",
         "Flores", "Rivera", "Gómez", "Díaz", "Cruz", "Morales", "Reyes", "Gutiérrez", "Ortiz", "Peña",
         "Núñez", "Ibáñez", "de la Cruz", "García-Márquez", "Castillo", "Jiménez", "Vásquez", "Ruiz", "Álvarez", "Mendoza"),
    ),
    "vietnamese": (
        ("Nguyễn Văn", "Thị", "Minh", "Anh", "Huy", "Linh", "Quân", "Thảo", "Dũng", "Hương",
         "Phương", "Tuấn", "Hạnh", "Khoa", "Trang", "Bảo", "Ngọc", "Long", "Mai", "Đức"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
         "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Nguyen", "Tran", "Le", "Pham"),
    ),
    "chinese": (
        ("Wei", "Jing", "Li Na", "Hao", "Mei", "Jun", "Xiaoling", "Yong", "Ling", "Tao",
         "Kevin", "Grace", "Jason", "Vivian", "Eric", "Cindy", "Ming", "Ying", "Alan", "Winnie"),
        ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
         "Lam", "Wong", "Chan", "Leung", "Cheung", "Ng", "Lau", "Ho", "Tang", "Yip"),
    ),
    "south_asian": (
        ("Priya", "Arjun", "Harpreet", "Gurpreet", "Rajesh", "Anjali", "Simran", "Amit", "Deepa", "Sanjay",
         "Manpreet", "Navdeep", "Kiran", "Ravi", "Sunita", "Vikram", "Neha", "Jaswinder", "Aarav", "Isha"),
        ("Singh", "Kaur", "Patel", "Sharma", "Gill", "Sandhu", "Dhillon", "Grewal", "Sidhu", "Gupta",
         "Khan", "Shah", "Reddy", "Iyer", "Bains", "Brar", "Malhotra", "Chopra", "Joshi", "Mehta"),
    ),
}

#: Customers that are businesses: no first name.
COMPANIES = (
    "Acme Plumbing Ltd.", "Les Entreprises Tremblay inc.", "Northern Lights Courier", "O'Malley's Pub & Grill",
    "Sánchez Landscaping LLC", "Bob's Towing", "City of Springfield - Fleet", "Nguyễn Nails & Spa",
    "Groupe Côté Construction", "Müller Bakery GmbH", "Rapid Rentals Inc.", "St. Mary's Parish",
)

EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com", "inbox.example.net", "courriel.example.org")

#: What staff type when a customer gives no email, and typos a validator refuses.
JUNK_EMAILS = (
    "n/a", "N/A", "none", "NONE", "declined", "no email", "refused", "x", "-", "na@", "@", "noemail",
    "4165550134", "customer declined to provide", "see notes",
)
#: A placeholder some dealerships enter; it is a syntactically valid address.
PLACEHOLDER_EMAIL = "noemail@example.com"

#: How people write a North American number: area code and the last four digits.
PHONE_FORMATS = (
    "(%s) 555-%s", "(%s) 555-%s", "%s-555-%s", "%s-555-%s", "%s.555.%s", "%s555%s", "+1 %s 555 %s",
    "1-%s-555-%s", "+1%s555%s", "%s 555 %s", "(%s)555-%s", "%s-555-%s ext. 204", "%s/555-%s",
)
JUNK_PHONES = ("000-000-0000", "n/a", "555-1234", "1234", "(999) 999-9999", "none", "x", "0", "-", "unknown")
#: London's numbers reserved for drama: a valid number, but not for a North American dealership.
FOREIGN_PHONES = ("+44 20 7946 0%s", "+33 1 99 00 0%s")

TAGS = (
    ("VIP", 10), ("Loyalty Club", 12), ("Fleet", 5), ("Employee", 3), ("Do Not Market", 4),
    ("Birthday This Month", 8), ("Service Only", 6), ("Commercial", 3), ("First Responder", 2),
    ("Military", 2), ("Deceased", 1), ("vip", 1), ("Spanish Speaking", 3), ("French Speaking", 3),
)


@dataclass(frozen=True)
class ModelSpec:
    make: str
    model: str
    wmi: str  # the manufacturer's real world identifier, first three VIN characters
    vds: str  # five characters describing the model
    plants: str  # plant codes the VIN's eleventh character takes
    first_year: int
    weight: int
    warranty_years: int = 3


MODELS = (
    ModelSpec("Toyota", "Camry", "4T1", "B11HK", "U", 2000, 8),
    ModelSpec("Toyota", "Corolla", "2T1", "BURHE", "C", 2000, 8),
    ModelSpec("Toyota", "RAV4", "2T3", "WRFV1", "CW", 2000, 9),
    ModelSpec("Toyota", "Highlander", "5TD", "JZRFH", "S", 2001, 4),
    ModelSpec("Toyota", "Tacoma", "3TM", "CZ5AN", "M", 2000, 4),
    ModelSpec("Honda", "Civic", "2HG", "FC2F5", "H", 2000, 9),
    ModelSpec("Honda", "Accord", "1HG", "CV1F3", "A", 2000, 6),
    ModelSpec("Honda", "CR-V", "2HK", "RW2H8", "H", 2000, 9),
    ModelSpec("Honda", "Pilot", "5FN", "YF6H5", "B", 2003, 3),
    ModelSpec("Acura", "MDX", "5J8", "YD4H5", "L", 2001, 2),
    ModelSpec("Acura", "RDX", "5J8", "TC2H3", "L", 2007, 2),
    ModelSpec("Ford", "F-150", "1FT", "EW1EP", "FK", 2000, 10),
    ModelSpec("Ford", "Escape", "1FM", "CU9GD", "U", 2001, 6),
    ModelSpec("Ford", "Explorer", "1FM", "5K8D8", "G", 2000, 4),
    ModelSpec("Ford", "Mustang", "1FA", "6P8TH", "5", 2000, 2),
    ModelSpec("Chevrolet", "Silverado 1500", "1GC", "UYDED", "Z", 2000, 8),
    ModelSpec("Chevrolet", "Equinox", "2GN", "AXUEV", "6", 2005, 6),
    ModelSpec("Chevrolet", "Malibu", "1G1", "ZD5ST", "F", 2000, 3),
    ModelSpec("GMC", "Sierra 1500", "1GT", "U9EED", "G", 2000, 4),
    ModelSpec("Ram", "1500", "1C6", "SRFFT", "N", 2011, 6),
    ModelSpec("Nissan", "Rogue", "5N1", "AT2MV", "C", 2008, 6),
    ModelSpec("Nissan", "Altima", "1N4", "BL4BV", "N", 2000, 4),
    ModelSpec("Hyundai", "Elantra", "5NP", "D84LF", "H", 2000, 5, 5),
    ModelSpec("Hyundai", "Tucson", "5NM", "J3AE4", "U", 2005, 5, 5),
    ModelSpec("Kia", "Sorento", "5XY", "P4DH8", "G", 2003, 3, 5),
    ModelSpec("Kia", "Forte", "3KP", "F24AD", "E", 2010, 3, 5),
    ModelSpec("Subaru", "Outback", "4S4", "BSANC", "3", 2000, 4),
    ModelSpec("Subaru", "Forester", "JF2", "SKAEC", "H", 2000, 4),
    ModelSpec("Mazda", "CX-5", "JM3", "KFBCM", "0", 2013, 5),
    ModelSpec("Mazda", "Mazda3", "3MZ", "BPACL", "M", 2004, 3),
    ModelSpec("Volkswagen", "Jetta", "3VW", "C57BU", "M", 2000, 3),
    ModelSpec("Volkswagen", "Tiguan", "3VV", "2B7AX", "M", 2009, 3),
    ModelSpec("BMW", "3 Series", "WBA", "5R1C5", "A", 2000, 2, 4),
    ModelSpec("BMW", "X5", "5UX", "CR6C0", "L", 2000, 2, 4),
    ModelSpec("Mercedes-Benz", "C-Class", "55S", "WF8DB", "U", 2000, 2, 4),
    ModelSpec("Lexus", "RX 350", "2T2", "BZMCA", "C", 2007, 2, 4),
    ModelSpec("Jeep", "Grand Cherokee", "1C4", "RJFAG", "C", 2000, 4),
    ModelSpec("Jeep", "Wrangler", "1C4", "HJXDG", "W", 2000, 3),
    ModelSpec("Tesla", "Model 3", "5YJ", "3E1EA", "F", 2017, 2, 4),
    ModelSpec("Tesla", "Model Y", "7SA", "YGDEE", "F", 2020, 2, 4),
    ModelSpec("Dodge", "Grand Caravan", "2C4", "RDGBG", "R", 2000, 3),
)

#: What a calling, email or texting system writes after its last attempt, by the
#: enrollment's status and the channel that made the attempt.
DISPOSITIONS = {
    "P": {
        "assigned": ("No answer", "Left voicemail", "Busy signal"),
        "in_progress": ("Left voicemail", "Left voicemail", "No answer", "No answer", "Busy signal", "Call back later",
                        "Spoke to customer - thinking about it"),
        "completed": ("Appointment set", "Appointment set", "Appointment set", "Not interested", "Already serviced elsewhere",
                      "Sold vehicle", "Do not call requested", "Vehicle traded in"),
        "error": ("Wrong number", "Number not in service", "Do not call requested"),
    },
    "E": {
        "assigned": ("Email sent",),
        "in_progress": ("Email sent", "Email opened", "Email opened", "Clicked link"),
        "completed": ("Appointment booked online", "Appointment booked online", "Clicked link", "Unsubscribed"),
        "error": ("Email bounced", "Invalid email address", "Mailbox full"),
    },
    "S": {
        "assigned": ("Text sent",),
        "in_progress": ("Text delivered", "Text delivered", "Text replied"),
        "completed": ("Appointment set", "Appointment set", "Text replied", "STOP received"),
        "error": ("Text undeliverable", "Carrier rejected message", "Landline - cannot text"),
    },
}
APPOINTMENT_DISPOSITIONS = frozenset({"Appointment set", "Appointment booked online"})
