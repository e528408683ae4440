"""shopsync as a Windows service (pywin32), next to Symfonia: `shopsync service install|start|stop|remove`.

The service runs the same server as `shopsync serve`, with the settings file given at install
(--config, stored in the service's registry key) and logs to a rotating file under ProgramData
(%ProgramData%\\shopsync\\logs\\shopsync.log) unless log.file says otherwise. Windows only.
"""

from __future__ import annotations  # pragma: no cover - Windows only

import os
import sys
from pathlib import Path
from typing import Any

import servicemanager  # type: ignore[import-not-found]
import win32service  # type: ignore[import-not-found]
import win32serviceutil  # type: ignore[import-not-found]

SERVICE_NAME = "shopsync"
PROGRAM_DATA = Path(os.environ.get("ProgramData", r"C:\ProgramData")) / "shopsync"


class ShopsyncService(win32serviceutil.ServiceFramework):
    _svc_name_ = SERVICE_NAME
    _svc_display_name_ = "shopsync (Symfonia <-> sklep)"
    _svc_description_ = "Synchronizacja Symfonia ERP Handel ze sklepem internetowym (shopsync)."

    def __init__(self, args: Any) -> None:
        super().__init__(args)
        self.server: Any = None

    def SvcStop(self) -> None:  # noqa: N802 - pywin32's name
        self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING)
        if self.server is not None:
            self.server.stop(grace=10)

    def SvcDoRun(self) -> None:  # noqa: N802
        from ..app import create_server
        from ..logs import setup_logging
        from ..settings import load_settings
        from .support import secrets_of

        config = win32serviceutil.GetServiceCustomOption(SERVICE_NAME, "config") or None
        settings = load_settings(config)
        log_file = settings.path(settings.log.file) if settings.log.file else PROGRAM_DATA / "logs" / "shopsync.log"
        setup_logging(settings.log.level, secrets_of(settings), str(log_file))
        servicemanager.LogInfoMsg(f"shopsync starting, log in {log_file}")
        self.server, _ = create_server(settings)
        self.server.wait_for_termination()


def run(action: str, config: str | None) -> int:
    if action == "install":
        win32serviceutil.InstallService(f"{__name__}.ShopsyncService", SERVICE_NAME,
                                        ShopsyncService._svc_display_name_, startType=win32service.SERVICE_AUTO_START,
                                        description=ShopsyncService._svc_description_,
                                        exeName=sys.executable)
        if config:
            win32serviceutil.SetServiceCustomOption(SERVICE_NAME, "config", str(Path(config).resolve()))
        print(f"service {SERVICE_NAME} installed (starts with Windows); logs in {PROGRAM_DATA / 'logs'}")
    elif action == "start":
        win32serviceutil.StartService(SERVICE_NAME)
        print(f"service {SERVICE_NAME} started")
    elif action == "stop":
        win32serviceutil.StopService(SERVICE_NAME)
        print(f"service {SERVICE_NAME} stopped")
    else:
        win32serviceutil.RemoveService(SERVICE_NAME)
        print(f"service {SERVICE_NAME} removed")
    return 0
