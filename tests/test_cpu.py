"""`ganzoo.training.cpu`: CPU time and hypervisor steal from `/proc/stat`, and
compare's record of them."""

import pytest

from ganzoo import compare
from ganzoo.training import cpu


def write_stat(path, user=100, nice=0, system=50, idle=800, iowait=10, irq=0, softirq=5, steal=35,
               guest=7):
    path.write_text(f"cpu  {user} {nice} {system} {idle} {iowait} {irq} {softirq} {steal} {guest} 0\n"
                    "cpu0 1 2 3 4 5 6 7 8 9 10\nintr 12345\n")


def test_jiffies_are_the_steal_and_the_sum_up_to_steal(tmp_path):
    stat = tmp_path / "stat"
    write_stat(stat)
    # Guest time is part of user already: the total stops at steal.
    assert cpu.read_cpu_jiffies(str(stat)) == (35, 100 + 50 + 800 + 10 + 5 + 35)


@pytest.mark.parametrize("text", ["", "cpu 1 2 3\n", "intr 1 2 3 4 5 6 7 8 9\n", "cpu a b c d e f g h\n"])
def test_unreadable_stat_is_unknown(tmp_path, text):
    stat = tmp_path / "stat"
    stat.write_text(text)
    assert cpu.read_cpu_jiffies(str(stat)) is None
    assert cpu.read_cpu_jiffies(str(tmp_path / "missing")) is None


def test_steal_fraction_closed_form():
    assert cpu.steal_fraction((10, 1000), (40, 1200)) == pytest.approx(30 / 200)
    assert cpu.steal_fraction((10, 1000), (10, 1000)) is None  # no tick passed
    assert cpu.steal_fraction(None, (10, 1000)) is None


def test_meter_laps_an_interval(tmp_path):
    stat = tmp_path / "stat"
    write_stat(stat, idle=800, steal=35)
    meter = cpu.CpuMeter(str(stat))
    sum(i * i for i in range(200_000))  # some CPU time
    write_stat(stat, idle=860, steal=75)  # 100 ticks later, 40 of them stolen
    lap = meter.lap()
    assert lap["steal"] == pytest.approx(0.4) and lap["cpu_seconds"] >= 0
    assert "steal" not in cpu.CpuMeter(str(tmp_path / "missing")).lap()


def test_compare_weights_steal_by_wall_time(tmp_path):
    (tmp_path / "metrics.csv").write_text(
        "step,epoch,seconds,cpu_seconds,steal,d_loss\n10,1,30.0,55.5,0.5,1.0\n20,2,10.0,19.5,0.1,0.9\n")
    assert compare._train_time(str(tmp_path)) == {
        "train_seconds": 40.0, "cpu_seconds": 75.0, "steal": pytest.approx((30 * 0.5 + 10 * 0.1) / 40)}
    # A run logged before these columns existed: wall time only.
    (tmp_path / "metrics.csv").write_text("step,epoch,seconds,d_loss\n10,1,30.0,1.0\n")
    assert compare._train_time(str(tmp_path)) == {"train_seconds": 30.0, "cpu_seconds": None, "steal": None}
    assert compare._train_time(str(tmp_path / "none"))["train_seconds"] is None


def test_table_shows_stolen_cpu_only_where_recorded():
    protocol = compare.Protocol("ring8", steps=None, seeds=(0, 1), eval_every=0, eval_samples=None, minutes=5)
    runs = [{"model": "dcgan", "seed": s, "steps": 100, "train_seconds": 300.0, "steal": st,
             "metrics": {"fid": 10.0}, "symptoms": []} for s, st in ((0, 0.1), (1, 0.3))]
    runs.append({"model": "vanilla", "seed": 0, "steps": 200, "train_seconds": 300.0,
                 "metrics": {"fid": 20.0}, "symptoms": []})
    table = compare.markdown_table(compare.summarize(runs, ["fid"]), ["fid"], protocol)
    assert "| 300 s | 20% (max 30%) |" in table and "| 300 s | – |" in table and "CPU stolen:" in table
    table = compare.markdown_table(compare.summarize(runs[2:], ["fid"]), ["fid"], protocol)
    assert "CPU stolen" not in table
