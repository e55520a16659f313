"""Peewee models, one module per aggregate; migrations live in ``migrations/``."""

from bananapics.models.audit import AdminAction
from bananapics.models.base import BaseModel, db, utcnow
from bananapics.models.bot import Conversation, Draft, Panel, TgFile
from bananapics.models.breakers import ModelBreaker
from bananapics.models.broadcast import Broadcast
from bananapics.models.billing import InvoiceIntent, Package, Payment
from bananapics.models.catalog import AiModel
from bananapics.models.jobs import Job, ModelSlot, Outbox
from bananapics.models.ledger import Hold, SystemAccount, Transfer
from bananapics.models.settings import Setting
from bananapics.models.system import WorkerHeartbeat
from bananapics.models.templates import Template, TemplateCategory, TemplateUse
from bananapics.models.users import User

ALL_MODELS = [User, SystemAccount, Transfer, Hold, Setting, AdminAction, AiModel, Package, InvoiceIntent, Payment,
              Job, ModelSlot, Outbox, Draft, Panel, TemplateCategory, Template, TemplateUse, TgFile,
              WorkerHeartbeat, Conversation]
ALL_MODELS.append(ModelBreaker)

__all__ = [
    "ALL_MODELS", "AdminAction", "AiModel", "BaseModel", "Conversation", "Draft", "Hold", "InvoiceIntent", "Job", "ModelSlot",
    "Outbox", "Package", "Panel",
    "Payment", "Setting", "SystemAccount", "Template", "TemplateCategory", "TemplateUse", "TgFile", "Transfer", "User", "WorkerHeartbeat", "db",
    "utcnow",
]
__all__.append("ModelBreaker")
ALL_MODELS.append(Broadcast)
__all__.append("Broadcast")
