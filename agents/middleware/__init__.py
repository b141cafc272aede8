"""Wrappers around every agent's model calls: the rules that make small and imperfect models safe to use.

Each is a small `AgentMiddleware` with one job, composed by `agents.middleware.stack.agent_middleware`:
the view each call sees of the thread, the step limit, the tool subset, the strict argument check with
retries, the text tool-call shim, the direct answer from a decisive result, and the answer fallback when a model gives no answer.
"""

from agents.middleware.answers import AnswerFallback
from agents.middleware.arguments import StrictArguments, argument_problems
from agents.middleware.direct import DirectAnswer
from agents.middleware.limits import StepLimit
from agents.middleware.shim import TextToolCalls
from agents.middleware.stack import ModelPolicy, agent_middleware
from agents.middleware.subset import ToolSubset, select_tools
from agents.middleware.view import ConversationView

__all__ = [
    "AnswerFallback",
    "ConversationView",
    "DirectAnswer",
    "ModelPolicy",
    "StepLimit",
    "StrictArguments",
    "TextToolCalls",
    "ToolSubset",
    "agent_middleware",
    "argument_problems",
    "select_tools",
]
