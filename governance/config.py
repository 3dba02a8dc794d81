"""The `[governance]` section of vigil.toml: follow-up filter tests and the schools' AI-tool policy.

```toml
[governance]
followup_plan = "/etc/vigil/filter-plan.yaml"   # groups, sites and proxy credentials reused by follow-ups
followup_proxy = "http://filter.school.internal:8080"
followup_delay_minutes = 15                     # filters apply list changes on a schedule

[governance.ai_policy]                           # every school, unless the school says otherwise
approved = ["microsoft_copilot"]
groups = { staff = ["microsoft_copilot", "chatgpt", "gemini"] }

[governance.schools.north]
followup_plan = "/etc/vigil/north-plan.yaml"
ai_policy = { approved = [], groups = { staff = ["chatgpt"] } }
```
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from governance.errors import GovernanceInvalid
from vigil.settings import Settings


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AiPolicy(_Model):
    """Approved AI services (ids from governance/data/ai_services.toml): for everyone, and per filter group."""

    approved: list[str] = Field(default_factory=list)
    groups: dict[str, list[str]] = Field(default_factory=dict)

    def approved_for(self, group: str | None) -> frozenset[str]:
        """The services approved for one filter group (the group's own list replaces the default)."""
        if group is not None and group in self.groups:
            return frozenset(self.groups[group])
        return frozenset(self.approved)


class SchoolGovernance(_Model):
    """Per-school overrides."""

    followup_plan: str | None = None
    followup_proxy: str | None = None
    ai_policy: AiPolicy | None = None


class GovernanceConfig(_Model):
    """The validated `[governance]` table."""

    followup_plan: str | None = Field(None, description="filter-test plan whose groups follow-ups probe as")
    followup_proxy: str | None = Field(None, description="proxy for follow-ups when the plan names none")
    followup_delay_minutes: int = Field(10, ge=0, le=7 * 24 * 60)
    ai_policy: AiPolicy = Field(default_factory=AiPolicy)
    schools: dict[str, SchoolGovernance] = Field(default_factory=dict)

    def plan_for(self, school: str) -> str | None:
        """The follow-up plan of a school."""
        own = self.schools.get(school)
        return (own.followup_plan if own and own.followup_plan else None) or self.followup_plan

    def proxy_for(self, school: str) -> str | None:
        """The follow-up proxy of a school."""
        own = self.schools.get(school)
        return (own.followup_proxy if own and own.followup_proxy else None) or self.followup_proxy

    def policy_for(self, school: str) -> AiPolicy:
        """The AI-tool policy of a school."""
        own = self.schools.get(school)
        return own.ai_policy if own and own.ai_policy else self.ai_policy


def load_config(settings: Settings) -> GovernanceConfig:
    """Validate `[governance]` (an error names the first bad key)."""
    try:
        return GovernanceConfig.model_validate(settings.section("governance"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise GovernanceInvalid(f"config: [governance] {where}: {first['msg']}") from exc
