"""Tree files for the tests: a small canonical tree (as export writes it) and a skill builder."""

from __future__ import annotations

import json
from typing import Any

Document = dict[str, Any]


def skill(key: str, *dependencies: str, **fields: Any) -> dict[str, Any]:
    """A skill entry with only the required fields, its dependencies, and `fields`."""
    return {"key": key, "name": key.upper(), "dependencies": list(dependencies)} | fields


def tree_file(skills: list[Any], **tree: Any) -> Document:
    """A minimal tree file in the category `web-dev` with these skills."""
    header = {"slug": "frontend", "name": "Frontend", "category": "web-dev"} | tree
    return {"format": "skilltree.tree", "version": 1, "tree": header, "skills": skills}


RUBRIC: Document = {
    "criteria": [
        {
            "id": "works",
            "name": "It works",
            "description": "Every page renders.",
            "levels": [
                {"name": "Broken", "points": 0, "description": ""},
                {"name": "Mostly", "points": 2.5, "description": "A page fails."},
                {"name": "Fully", "points": 4, "description": ""},
            ],
            "minimum": 2.5,
        },
        {
            "id": "style",
            "name": "Readable",
            "description": "",
            "levels": [
                {"name": "Hard", "points": 0, "description": ""},
                {"name": "Clear", "points": 1, "description": ""},
            ],
            "minimum": 0,
        },
    ]
}
"""A PROJECT skill's rubric as export writes it (every field, whole points as integers)."""


def full_skill(key: str, dependencies: list[str], x: float, y: float, **fields: Any) -> Document:
    """A skill entry with every field, exactly as export writes it."""
    return {
        "key": key,
        "name": f"{key.upper()} Fundamentals",
        "shortName": key.upper(),
        "description": f"Learn {key}.",
        "learningObjectives": [f"Use {key}", f"Explain {key}"],
        "skillType": "PRACTICAL",
        "difficulty": "BEGINNER",
        "estimatedMinutes": 120,
        "xpValue": 50,
        "dependencies": dependencies,
        "parent": None,
        "position": {"x": x, "y": y},
        "nodeSize": 1,
        "content": {
            "type": "structured",
            "modules": [
                {
                    "title": f"{key} basics",
                    "type": "article",
                    "estimatedMinutes": 60,
                    "resources": [
                        {"type": "link", "title": "MDN", "url": "https://developer.mozilla.org/"}
                    ],
                }
            ],
        },
        "resources": [{"type": "book", "title": f"The {key} book", "url": "https://example.org/b"}],
        "assessments": [
            {
                "id": f"{key}-quiz",
                "type": "quiz",
                "title": f"{key} quiz",
                "passingScore": 80,
                "questions": [{"prompt": "Which?", "options": ["a", "b"], "answer": "a"}],
            }
        ],
        "completionPolicy": {"ASSESSMENT": {}},
        "questionBank": None,
        "rubric": None,
        "isActive": True,
        "isOptional": False,
        "isMilestone": False,
    } | fields


def canonical_file() -> Document:
    """A tree file with every field, skills in export order: import then export gives it back."""
    return {
        "format": "skilltree.tree",
        "version": 1,
        "tree": {
            "slug": "frontend",
            "name": "Frontend Web Development",
            "category": "web-dev",
            "description": "HTML, CSS, JavaScript and React.",
            "shortDescription": "Build web pages",
            "difficulty": "BEGINNER",
            "estimatedHours": 120.5,
            "tags": ["web", "html"],
            "version": "2.1.0",
            "layoutConfig": {"theme": "modern", "nodeSpacing": 220, "levelHeight": 200},
            "themeConfig": {"primaryColor": "#3B82F6", "fontFamily": "Inter"},
            "isFeatured": True,
            "isAiGenerated": False,
            "prerequisites": [],
        },
        "skills": [
            full_skill(
                "html",
                [],
                0,
                0,
                isMilestone=True,
                completionPolicy={
                    "ASSESSMENT": {"passingScore": 90},
                    "TIME_BASED": {"minutes": 90},
                },
            ),
            full_skill(
                "css",
                ["html"],
                0,
                200,
                nodeSize=2,
                content={
                    "type": "structured",
                    "modules": [
                        {
                            "id": "selectors",
                            "title": "Selectors",
                            "type": "video",
                            "estimatedMinutes": 12.5,
                            "resources": [],
                            "body": "Watch, then **try** it.",
                        },
                        {
                            "title": "Quiz",
                            "type": "assessment",
                            "estimatedMinutes": 5,
                            "resources": [],
                        },
                    ],
                },
                completionPolicy={"MANUAL": {}, "TIME_BASED": {"minutes": 30}},
            ),
            full_skill("semantics", ["html"], 0, 200, parent="html", content=None),
            full_skill("js", ["html"], 220.5, 200, skillType="KNOWLEDGE", resources=None),
            full_skill(
                "react",
                ["css", "js"],
                -10,
                400,
                isOptional=True,
                assessments=None,
                completionPolicy={"MANUAL": {}, "PROJECT": {}, "EXTERNAL": {}},
                rubric=RUBRIC,
            ),
            full_skill("legacy", [], 500, 400, isActive=False, estimatedMinutes=None),
        ],
    }


def encode(document: Document) -> bytes:
    """The document as the bytes of a file."""
    return json.dumps(document).encode()
