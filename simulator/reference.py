"""Fixed vocabularies of the simulated company.

Enumerations here are the *accepted values* documented in docs/landing-zone.md;
quality checks and dbt accepted_values tests use the same lists, so a value
outside them is a defect by definition.
"""

from __future__ import annotations

CATEGORIES: dict[str, list[str]] = {
    "Apparel": ["Tops", "Bottoms", "Outerwear", "Activewear"],
    "Footwear": ["Sneakers", "Boots", "Sandals"],
    "Electronics": ["Phones", "Audio", "Computers", "Accessories"],
    "Home & Kitchen": ["Cookware", "Furniture", "Decor", "Bedding"],
    "Beauty": ["Skincare", "Makeup", "Fragrance"],
    "Sports & Outdoors": ["Fitness", "Camping", "Cycling"],
    "Grocery": ["Snacks", "Beverages", "Pantry"],
    "Toys & Games": ["Board Games", "Puzzles", "Action Figures"],
    "Books": ["Fiction", "Non-fiction", "Children's Books"],
    "Baby & Maternity": ["Diapers", "Strollers", "Maternity Wear", "Nursery"],
}
CATEGORY_NAMES: list[str] = list(CATEGORIES)
BABY_CATEGORY = "Baby & Maternity"
# Median list price per category, in shop currency.
CATEGORY_PRICE: dict[str, float] = {
    "Apparel": 35, "Footwear": 70, "Electronics": 180, "Home & Kitchen": 60,
    "Beauty": 25, "Sports & Outdoors": 55, "Grocery": 8, "Toys & Games": 30,
    "Books": 15, "Baby & Maternity": 40,
}  # fmt: skip
# Share of catalogue (and of baseline demand) per category.
CATEGORY_WEIGHT: list[float] = [0.16, 0.09, 0.1, 0.12, 0.1, 0.08, 0.12, 0.08, 0.1, 0.05]

COLOURS = ["Black", "White", "Navy", "Red", "Green", "Grey", "Beige", "Blue", "Pink", "Brown"]
SIZES = ["XS", "S", "M", "L", "XL", "One Size"]
ADJECTIVES = ["Classic", "Essential", "Premium", "Everyday", "Pro", "Eco", "Urban", "Studio", "Heritage", "Lite"]

BRAND_TYPES = ["Private Label", "National", "Premium", "Luxury", "Direct-to-Consumer"]
PARENT_COMPANIES = [
    "Northwind Holdings", "Acme Consumer Group", "Globex Retail", "Initech Brands", "Umbrella Goods",
    "Stark Lifestyle", "Wayne Consumer", "Tyrell Home", "Soylent Foods", "Vandelay Industries",
    "Hooli Devices", "Cyberdyne Sports",
]  # fmt: skip
BRAND_SYLLABLES = ["nor", "vik", "al", "ta", "ze", "lu", "mo", "ra", "ki", "sol", "ven", "dra", "po", "li", "xo", "ber"]

GENDERS = ["Female", "Male", "Non-binary"]
GENDER_WEIGHT = [0.49, 0.48, 0.03]
EDUCATION_LEVELS = ["High School", "Associate", "Bachelor", "Master", "Doctorate"]
EDUCATION_WEIGHT = [0.3, 0.12, 0.36, 0.17, 0.05]
MARITAL_STATUSES = ["Single", "Married", "Divorced", "Widowed"]
OCCUPATIONS = [
    "Engineer", "Teacher", "Nurse", "Sales Associate", "Accountant", "Designer", "Student", "Manager",
    "Driver", "Chef", "Retired", "Consultant", "Developer", "Lawyer", "Technician", "Artist",
]  # fmt: skip
HOBBIES = ["Reading", "Running", "Cooking", "Gaming", "Hiking", "Photography", "Yoga", "Gardening", "Travel", "Music"]
FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen",
    "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sofia", "Mark", "Aisha", "Wei", "Priya",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Nguyen", "Patel", "Kim",
]  # fmt: skip
STREETS = ["Main St", "Oak Ave", "Pine Rd", "Maple Dr", "Cedar Ln", "Elm St", "Lake View", "Park Blvd", "Hill Rd"]
# (city, state code, zip prefix); the country is always "USA".
LOCATIONS = [
    ("Los Angeles", "CA", "900"), ("San Francisco", "CA", "941"), ("San Diego", "CA", "921"),
    ("New York", "NY", "100"), ("Buffalo", "NY", "142"), ("Chicago", "IL", "606"), ("Houston", "TX", "770"),
    ("Austin", "TX", "787"), ("Dallas", "TX", "752"), ("Phoenix", "AZ", "850"), ("Philadelphia", "PA", "191"),
    ("Seattle", "WA", "981"), ("Denver", "CO", "802"), ("Boston", "MA", "021"), ("Miami", "FL", "331"),
    ("Orlando", "FL", "328"), ("Atlanta", "GA", "303"), ("Portland", "OR", "972"), ("Nashville", "TN", "372"),
    ("Detroit", "MI", "482"),
]  # fmt: skip
COUNTRY = "USA"

ORDER_STATUSES = ["Processing", "Shipped", "Delivered", "Canceled", "Returned"]
PAYMENT_METHODS = ["Credit Card", "Debit Card", "PayPal", "Apple Pay", "Gift Card", "Bank Transfer"]
PAYMENT_WEIGHT = [0.4, 0.2, 0.18, 0.12, 0.05, 0.05]

EVENT_ACTIONS = ["page_view", "product_view", "add_to_favorite", "add_to_cart", "remove_from_cart", "order_placed"]
TRAFFIC: dict[str, list[str]] = {
    "Organic Search": ["google", "bing"],
    "Paid Search": ["google_ads", "bing_ads"],
    "Social": ["facebook", "instagram", "tiktok"],
    "Email": ["newsletter", "promo_email"],
    "Direct": ["direct"],
    "Referral": ["partner_blog", "affiliate"],
    "Display": ["programmatic"],
}
CHANNELS: list[str] = list(TRAFFIC)
CHANNEL_WEIGHT = [0.3, 0.15, 0.15, 0.12, 0.15, 0.08, 0.05]

# Relative demand by hour of day (UTC) and by weekday (Monday first).
HOUR_WEIGHT = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 3.5, 4, 4.5, 5, 5, 4.5, 4, 4, 4.5, 5.5, 6.5, 7, 6, 4, 2]
WEEKDAY_WEIGHT = [0.95, 0.9, 0.95, 1.0, 1.05, 1.1, 1.05]
