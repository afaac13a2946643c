"""A ward point in a process of its own, for tests that put it in a network namespace.

    python -m tests.ns_point URL USERNAME MEETING_ID [server-ice]

It joins (with the STUN/TURN servers the server hands out when `server-ice` is given) and
prints one JSON line per step: {"joined": true} or {"error": "..."}; then it answers lines on
stdin: `fps` -> {"fps": received program frames per second over the last 2 s}, `audio` ->
{"audio": the tone level heard}, `leave` -> leaves and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tests.points import Point, PointError


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


async def main(url: str, username: str, meeting_id: int, server_ice: bool) -> None:
    point = Point(url, username, meeting_id, server_ice=server_ice, connect_within=60)
    try:
        await point.join()
    except (PointError, OSError, TimeoutError) as error:
        say(error=f"{type(error).__name__}: {error}")
        return
    say(joined=True)
    lines = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(lines), sys.stdin)
    while command := (await lines.readline()).decode().strip():
        if command == "fps":
            say(fps=point.received_fps())
        elif command == "audio":
            say(audio=point.audio_level())
        elif command == "leave":
            break
    await point.leave()
    say(left=True)


if __name__ == "__main__":
    url, username, meeting = sys.argv[1:4]
    asyncio.run(main(url, username, int(meeting), "server-ice" in sys.argv[4:]))
