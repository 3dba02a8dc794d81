"""Ordinary searches of pupils and staff: curriculum queries per subject and everyday ones (written for the demo)."""

from __future__ import annotations

SUBJECT_QUERIES: dict[str, tuple[str, ...]] = {
    "maths": (
        "how to expand double brackets", "pythagoras theorem examples", "simultaneous equations gcse",
        "area of a circle formula", "how to find the nth term", "sohcahtoa", "surds explained",
        "quadratic formula", "probability tree diagrams", "standard form calculator", "bounds gcse maths",
        "corbettmaths 5 a day", "how to rationalise the denominator", "vectors higher tier",
    ),
    "english": (
        "an inspector calls themes", "macbeth act 1 scene 7 analysis", "a christmas carol quotes scrooge",
        "persuasive writing techniques", "what is a metaphor", "power and conflict poems ozymandias",
        "jekyll and hyde duality", "how to write a speech gcse", "of mice and men summary",
        "semicolon rules", "language paper 1 question 4", "romeo and juliet act 3 summary",
    ),
    "science": (
        "photosynthesis equation", "how do vaccines work", "required practical osmosis potato",
        "ionic vs covalent bonding", "specific heat capacity", "cell structure animal vs plant",
        "what is the periodic table", "newtons laws of motion", "rates of reaction factors",
        "human heart diagram", "carbon cycle gcse", "electrolysis of brine", "what is homeostasis",
    ),
    "history": (
        "causes of ww1", "battle of hastings 1066", "the cold war timeline", "suffragettes",
        "norman conquest castles", "elizabeth i religious settlement", "american west gcse",
        "medicine through time", "treaty of versailles terms", "the blitz london", "weimar republic hyperinflation",
    ),
    "geography": (
        "tectonic plates map", "coastal erosion landforms", "climate change effects uk",
        "urbanisation in lagos", "river meanders ox bow lake", "population pyramid", "rainforest layers",
        "demographic transition model", "hurricane katrina case study",
    ),
    "computing": (
        "python for loop", "binary to denary", "what is an algorithm", "html table tags",
        "bubble sort vs merge sort", "python input integer", "sql select where", "logic gates truth table",
        "how does the internet work", "python list append", "what is a cpu", "hexadecimal conversion",
    ),
    "languages": (
        "french past tense etre verbs", "spanish numbers 1 100", "que hiciste el fin de semana",
        "mon college description", "french to english translate", "spanish opinion phrases gcse",
    ),
    "art": ("frida kahlo self portrait", "pop art andy warhol", "how to draw a face proportions",
            "grayson perry pottery", "colour wheel complementary colours"),
    "music": ("treble clef notes", "what is a chord progression", "baroque music features",
              "film music leitmotif", "12 bar blues"),
    "pe": ("components of fitness", "muscles in the body gcse pe"),
    "re": ("five pillars of islam", "what do buddhists believe", "christian views on the afterlife",
           "sikh gurdwara langar", "arguments for the existence of god"),
    "pshe": ("healthy relationships", "how to manage stress before exams", "what is consent",
             "online safety tips", "how to budget money"),
}

EVERYDAY_QUERIES: tuple[str, ...] = (
    "weather tomorrow", "man utd score", "arsenal transfer news", "premier league table", "fortnite new season",
    "minecraft seeds", "taylor swift tickets", "funny cat videos", "how to tie a tie", "nike air force 1",
    "bus times 12", "greggs menu", "new music friday", "best pizza near me", "world cup 2026 fixtures",
    "how to get abs", "netflix new releases", "what time is it in new york", "roblox promo codes",
    "how to draw anime eyes", "cheap flights to spain", "duke of edinburgh award expedition", "f1 standings",
    "how to revise for mocks", "part time jobs for 16 year olds", "ucas personal statement examples",
    "how long to boil an egg", "gcse results day 2026", "driving lessons cost", "prom dresses",
    "how to make slime", "skibidi toilet", "mr beast new video", "lyrics", "translate", "bbc news",
)

STAFF_QUERIES: tuple[str, ...] = (
    "ofsted inspection framework 2026", "keeping children safe in education", "sims report writing",
    "gcse grade boundaries", "behaviour policy secondary school", "send code of practice",
    "teacher pay scales 2026", "powerpoint templates free", "aqa specification", "cpd online courses",
    "parents evening booking", "how to mail merge in word", "train strikes", "exam invigilator guidance",
)
