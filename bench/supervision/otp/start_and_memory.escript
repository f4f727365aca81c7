#!/usr/bin/env escript
%% -*- erlang -*-
%% 100k idle gen_server children under one simple_one_for_one supervisor:
%% time to start them with supervisor:start_child/2 (one caller, one by one)
%% and the memory each costs: erlang:memory/1 before/after divided by the
%% count (includes the supervisor's bookkeeping), and process_info(memory) of
%% the children themselves.
%%
%%   escript start_and_memory.escript [Children]     (default 100000)
-module(otp_start_and_memory).
-mode(compile).
-export([main/1, init/1, start_worker/1,
         handle_call/3, handle_cast/2, handle_info/2, terminate/2]).
-include("bench_common.hrl").

main(Args) ->
    N = count_arg(Args, 100000),
    bench_setup(),
    {ok, Sup} = supervisor:start_link(?MODULE, supervisor),
    erlang:garbage_collect(),
    Total0 = erlang:memory(total),
    Procs0 = erlang:memory(processes),
    T0 = now_ns(),
    ok = start_children(Sup, N),
    Elapsed = now_ns() - T0,
    erlang:garbage_collect(),
    Total1 = erlang:memory(total),
    Procs1 = erlang:memory(processes),
    Pids = [Pid || {_, Pid, _, _} <- supervisor:which_children(Sup)],
    N = length(Pids),
    ChildMemory = [M || Pid <- Pids, {memory, M} <- [process_info(Pid, memory)]],
    {memory, SupMemory} = process_info(Sup, memory),
    metric("sofo_children", N),
    metric("start_children_total_ms", Elapsed / 1.0e6),
    metric("start_child_mean_ns", Elapsed div N),
    metric("memory_total_per_child_bytes", (Total1 - Total0) / N),
    metric("memory_processes_per_child_bytes", (Procs1 - Procs0) / N),
    metric("process_memory_per_child_median_bytes", median(ChildMemory)),
    metric("supervisor_process_memory_bytes", SupMemory),
    stop_supervisor(Sup).

start_children(_Sup, 0) -> ok;
start_children(Sup, K) ->
    {ok, _} = supervisor:start_child(Sup, []),
    start_children(Sup, K - 1).

init(supervisor) ->
    Flags = #{strategy => simple_one_for_one, intensity => 1, period => 5},
    Template = #{id => worker, start => {?MODULE, start_worker, [none]}},
    {ok, {Flags, [Template]}};
init({worker, Notify}) -> worker_init(Notify).
