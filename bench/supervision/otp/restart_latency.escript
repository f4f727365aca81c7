#!/usr/bin/env escript
%% -*- erlang -*-
%% Restart latency, one_for_one: time from exit(Pid, kill) to the replacement's
%% init running (its init sends erlang:monotonic_time(nanosecond) back).
%% A fresh supervisor every BATCH restarts: OTP keeps the restarts inside the
%% period in a list it scans on every restart, so thousands of back-to-back
%% restarts under one supervisor would measure that scan, not a restart.
%%
%%   escript restart_latency.escript [Samples]     (default 20000)
-module(otp_restart_latency).
-mode(compile).
-export([main/1, init/1, start_worker/1,
         handle_call/3, handle_cast/2, handle_info/2, terminate/2]).
-include("bench_common.hrl").

-define(BATCH, 100).
-define(WARMUP, 1000).

main(Args) ->
    Samples = count_arg(Args, 20000),
    bench_setup(),
    _ = measure(?WARMUP),
    Sorted = lists:sort(measure(Samples)),
    metric("restart_latency_samples", length(Sorted)),
    metric("restart_latency_median_ns", percentile(Sorted, 50)),
    metric("restart_latency_p99_ns", percentile(Sorted, 99)),
    metric("restart_latency_mean_ns", lists:sum(Sorted) / length(Sorted)).

measure(N) when N =< 0 -> [];
measure(N) ->
    K = min(N, ?BATCH),
    batch(K) ++ measure(N - K).

batch(K) ->
    {ok, Sup} = supervisor:start_link(?MODULE, {supervisor, self()}),
    First = receive {started, Pid, _} -> Pid end,
    Latencies = restarts(K, First, []),
    stop_supervisor(Sup),
    Latencies.

restarts(0, _Pid, Acc) -> Acc;
restarts(K, Pid, Acc) ->
    T0 = now_ns(),
    exit(Pid, kill),
    receive {started, New, T1} -> restarts(K - 1, New, [T1 - T0 | Acc]) end.

init({supervisor, Collector}) ->
    %% Intensity far above BATCH so the window never stops the run.
    Flags = #{strategy => one_for_one, intensity => 10 * ?BATCH, period => 1},
    Child = #{id => worker, start => {?MODULE, start_worker, [Collector]}},
    {ok, {Flags, [Child]}};
init({worker, Notify}) -> worker_init(Notify).
