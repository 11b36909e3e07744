"""Rendering a batch of documents on every core (render_notices)."""

import os
import time

from core.document_batches import render_in_processes


class _File:
    def __init__(self, index: int) -> None:
        self.key = f"k{index}"
        self.index = index

    def render(self) -> bytes:
        time.sleep(0.2)  # long enough for both processes to take a share
        return f"{self.index}:{os.getpid()}".encode()


def test_a_batch_is_rendered_in_worker_processes_and_comes_back_in_order():
    rendered = [content.decode().split(":") for content in render_in_processes([_File(i) for i in range(6)], processes=2)]
    assert [int(index) for index, _pid in rendered] == list(range(6))
    pids = {int(pid) for _index, pid in rendered}
    assert os.getpid() not in pids and len(pids) == 2


def test_inside_a_transaction_the_batch_is_rendered_here(db):
    rendered = render_in_processes([_File(i) for i in range(3)], processes=2)
    assert {content.decode().split(":")[1] for content in rendered} == {str(os.getpid())}
