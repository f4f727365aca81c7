#!/usr/bin/env escript
%% -*- erlang -*-
%%
%% Erlang/OTP reference side of tools/supervision-scenario (issue 3, section 3).
%% Reads ONE JSON object {"tree": SPEC, "steps": [STEP, ...]} on stdin, builds the
%% tree with OTP's real `supervisor` module, runs the steps and prints one line
%% per step: {"step": N, "alive": [sorted paths of living processes]}.
%%
%%   escript scenario.escript < tests/supervision/scenarios/x.json
%%   escript scenario.escript --canon < trace   (rewrites trace lines in the
%%                                               canonical form, for diffs)
%%
%% Semantics shared with the C++ runner (keep both in step):
%% - A path is the parent's path + "/" + id; the root's id is the first segment;
%%   simple_one_for_one children take the id given by start_child.
%% - intensity/period default to OTP's 1 in 5 s, restart to permanent.
%% - Workers are gen_servers that do not trap exits. `exit` with crash|normal|
%%   shutdown makes the process stop itself with that reason (a worker returns
%%   {stop, Reason, S}; a supervisor is stopped with sys:terminate/3 so it shuts
%%   its children down first); `kill` is exit(Pid, kill).
%% - Steps that name a path/supervisor with no living process are no-ops.
%% - `sleep_ms` really sleeps. OTP counts the restart window in whole seconds of
%%   monotonic time (erlang:monotonic_time(1)), so a trace whose restarts sit
%%   near a second boundary can differ from a runner with a fake millisecond
%%   clock; scenarios keep clear of boundaries (sleeps of 1200 ms, windows either
%%   well inside or well outside the period).
-module(supervision_scenario).
-mode(compile).
-export([main/1, start_node/2, start_dynamic/3, init/1,
         handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-include("json.hrl").

%% Settling: the tree is settled when this many consecutive snapshots, taken
%% SETTLE_PAUSE_MS apart, are equal and every mailbox in the tree is empty.
-define(SETTLE_PAUSE_MS, 10).
-define(SETTLE_STABLE, 3).
-define(FAILS, scenario_fail_starts).   % path => starts still to fail
-define(NODES, scenario_nodes).         % pid => {path, spec}

main(["--canon"]) ->
    canonicalise(read_stdin());
main([]) ->
    logger:set_primary_config(level, none),
    process_flag(trap_exit, true),
    Scenario = json_decode(read_stdin()),
    #{<<"tree">> := Tree, <<"steps">> := Steps} = Scenario,
    ets:new(?FAILS, [named_table, public]),
    ets:new(?NODES, [named_table, public]),
    RootPath = maps:get(<<"id">>, Tree),
    Root = case start_node(RootPath, Tree) of
               {ok, Pid} -> unlink(Pid), Pid;
               Other -> fail("root did not start: ~p", [Other])
           end,
    settle(Root),
    run_steps(Root, RootPath, Steps, 0);
main(_) ->
    fail("usage: scenario.escript [--canon] < scenario.json", []).

run_steps(_Root, _RootPath, [], _N) -> ok;
run_steps(Root, RootPath, [Step | Rest], N) ->
    step(Step, snapshot(Root, RootPath)),
    Alive = lists:sort([Path || {Path, _Pid, _Type} <- settle_and_list(Root, RootPath)]),
    io:put_chars([json_encode({obj, [{step, N}, {alive, Alive}]}), "\n"]),
    run_steps(Root, RootPath, Rest, N + 1).

%%% Steps ------------------------------------------------------------------

step(#{<<"exit">> := #{<<"path">> := Path, <<"reason">> := Reason}}, Tree) ->
    case lists:keyfind(Path, 1, Tree) of
        {Path, Pid, Type} -> exit_process(Pid, Type, reason(Reason));
        false -> ok
    end;
step(#{<<"start_child">> := #{<<"sup">> := SupPath, <<"id">> := Id}}, Tree) ->
    with_sup(SupPath, Tree, fun(Sup, Spec) ->
        case strategy(Spec) of
            simple_one_for_one -> catch supervisor:start_child(Sup, [Id]);
            _ ->
                ChildSpec = child_spec(SupPath, #{<<"id">> => Id,
                                                  <<"type">> => <<"worker">>}),
                catch supervisor:start_child(Sup, ChildSpec)
        end
    end);
step(#{<<"terminate_child">> := #{<<"sup">> := SupPath, <<"id">> := Id}}, Tree) ->
    with_sup(SupPath, Tree, fun(Sup, Spec) ->
        case strategy(Spec) of
            simple_one_for_one ->
                case lists:keyfind(child_path(SupPath, Id), 1, Tree) of
                    {_, Child, _} -> catch supervisor:terminate_child(Sup, Child);
                    false -> ok
                end;
            _ -> catch supervisor:terminate_child(Sup, Id)
        end
    end);
step(#{<<"fail_starts">> := #{<<"path">> := Path, <<"count">> := Count}}, _Tree) ->
    ets:insert(?FAILS, {Path, Count});
step(#{<<"sleep_ms">> := Ms}, _Tree) ->
    timer:sleep(Ms);
step(Other, _Tree) ->
    fail("unknown step: ~p", [Other]).

with_sup(SupPath, Tree, Fun) ->
    case lists:keyfind(SupPath, 1, Tree) of
        {SupPath, Sup, supervisor} ->
            [{Sup, {SupPath, Spec}}] = ets:lookup(?NODES, Sup),
            Fun(Sup, Spec);
        _ -> ok
    end.

reason(<<"crash">>) -> crash;
reason(<<"normal">>) -> normal;
reason(<<"shutdown">>) -> shutdown;
reason(<<"kill">>) -> kill;
reason(Other) -> fail("unknown exit reason: ~s", [Other]).

%% Returns once the process is dead; its supervisor reacts asynchronously.
exit_process(Pid, Type, Reason) ->
    Ref = monitor(process, Pid),
    case {Reason, Type} of
        {kill, _} -> exit(Pid, kill);
        {_, worker} -> gen_server:cast(Pid, {stop, Reason});
        {_, supervisor} -> catch sys:terminate(Pid, Reason, infinity)
    end,
    receive {'DOWN', Ref, process, Pid, _} -> ok end.

%%% Building the tree ------------------------------------------------------

start_node(Path, Spec) ->
    case consume_injected_failure(Path) of
        true -> {error, injected};
        false ->
            case type(Spec) of
                worker -> gen_server:start_link(?MODULE, {worker, Path, Spec}, []);
                supervisor -> supervisor:start_link(?MODULE, {supervisor, Path, Spec})
            end
    end.

%% simple_one_for_one: supervisor:start_child(Sup, [Id]) appends Id.
start_dynamic(SupPath, Template, Id) ->
    start_node(child_path(SupPath, Id), Template#{<<"id">> => Id}).

consume_injected_failure(Path) ->
    case ets:lookup(?FAILS, Path) of
        [{Path, N}] when N > 0 -> ets:insert(?FAILS, {Path, N - 1}), true;
        _ -> false
    end.

%% init/1 serves both behaviours: supervisor (tag supervisor) and gen_server
%% (tag worker).
init({supervisor, Path, Spec}) ->
    ets:insert(?NODES, {self(), {Path, Spec}}),
    Flags = #{strategy => strategy(Spec),
              intensity => maps:get(<<"intensity">>, Spec, 1),
              period => maps:get(<<"period">>, Spec, 5)},
    Children = case strategy(Spec) of
                   simple_one_for_one ->
                       Template = maps:get(<<"template">>, Spec),
                       [(child_spec(Path, Template#{<<"id">> => <<"template">>}))
                            #{start => {?MODULE, start_dynamic, [Path, Template]}}];
                   _ ->
                       [child_spec(Path, C) || C <- maps:get(<<"children">>, Spec, [])]
               end,
    {ok, {Flags, Children}};
init({worker, Path, Spec}) ->
    ets:insert(?NODES, {self(), {Path, Spec}}),
    {ok, Path}.

child_spec(ParentPath, #{<<"id">> := Id} = Spec) ->
    #{id => Id,
      start => {?MODULE, start_node, [child_path(ParentPath, Id), Spec]},
      restart => restart(Spec),
      type => type(Spec)}.

child_path(ParentPath, Id) -> <<ParentPath/binary, "/", Id/binary>>.

type(Spec) ->
    one_of(<<"type">>, maps:get(<<"type">>, Spec, <<"worker">>), [worker, supervisor]).
restart(Spec) ->
    one_of(<<"restart">>, maps:get(<<"restart">>, Spec, <<"permanent">>),
           [permanent, transient, temporary]).
strategy(Spec) ->
    one_of(<<"strategy">>, maps:get(<<"strategy">>, Spec, <<"one_for_one">>),
           [one_for_one, one_for_all, rest_for_one, simple_one_for_one]).

one_of(Field, Value, Allowed) ->
    case [A || A <- Allowed, atom_to_binary(A) =:= Value] of
        [A] -> A;
        [] -> fail("~s: expected one of ~p, got ~p", [Field, Allowed, Value])
    end.

%% Worker gen_server callbacks.
handle_call(_Request, _From, Path) -> {reply, ok, Path}.
handle_cast({stop, Reason}, Path) -> {stop, Reason, Path};
handle_cast(_Msg, Path) -> {noreply, Path}.
handle_info(_Msg, Path) -> {noreply, Path}.
terminate(_Reason, _Path) -> ok.

%%% Observing the tree ------------------------------------------------------

%% [{Path, Pid, Type}] of every living process reachable from the root through
%% which_children, plus {restarting, Path, Id} markers for pending restarts.
snapshot(Root, RootPath) ->
    [E || {_, _, _} = E <- walk(Root, RootPath, supervisor)].

walk(Pid, Path, worker) ->
    [{Path, Pid, worker} || is_process_alive(Pid)];
walk(Pid, Path, supervisor) ->
    case catch supervisor:which_children(Pid) of
        Children when is_list(Children) ->
            [{Path, Pid, supervisor}
             | lists:append([walk_child(Path, C) || C <- Children])];
        _Dead -> []
    end.

walk_child(Path, {Id, Pid, Type, _Mods}) when is_pid(Pid) ->
    ChildPath = case Id of
                    undefined -> node_path(Pid);   % simple_one_for_one child
                    _ -> child_path(Path, Id)
                end,
    walk(Pid, ChildPath, Type);
walk_child(Path, {Id, restarting, _Type, _Mods}) -> [{restarting, Path, Id, pending}];
walk_child(_Path, {_Id, undefined, _Type, _Mods}) -> [].

node_path(Pid) ->
    case ets:lookup(?NODES, Pid) of
        [{Pid, {Path, _Spec}}] -> Path;
        [] -> <<"?">>
    end.

settle(Root) -> settle_and_list(Root, node_path(Root)).

%% "After the tree has settled": restarts, retries (try_again_restart casts)
%% and give-ups propagate asynchronously; wait until the full picture
%% (including pending-restart markers) stops changing and all mailboxes are
%% empty, then return the living processes.
settle_and_list(Root, RootPath) ->
    settle_loop(Root, RootPath, full_walk(Root, RootPath), 0).

settle_loop(Root, RootPath, Prev, Stable) ->
    timer:sleep(?SETTLE_PAUSE_MS),
    Cur = full_walk(Root, RootPath),
    case Cur =:= Prev andalso quiet(Cur) of
        true when Stable + 1 >= ?SETTLE_STABLE ->
            [E || {_, _, _} = E <- Cur];
        true -> settle_loop(Root, RootPath, Cur, Stable + 1);
        false -> settle_loop(Root, RootPath, Cur, 0)
    end.

full_walk(Root, RootPath) -> walk(Root, RootPath, supervisor).

quiet(Entries) ->
    lists:all(fun({_Path, Pid, _Type}) ->
                      process_info(Pid, message_queue_len) =:= {message_queue_len, 0};
                 ({restarting, _, _, _}) -> false
              end, Entries).

%%% I/O ---------------------------------------------------------------------

read_stdin() ->
    ok = io:setopts(standard_io, [binary]),
    read_stdin([]).

read_stdin(Acc) ->
    case io:get_chars(standard_io, '', 65536) of
        eof -> iolist_to_binary(lists:reverse(Acc));
        {error, Reason} -> fail("cannot read stdin: ~p", [Reason]);
        Data -> read_stdin([Data | Acc])
    end.

%% Rewrites {"step": N, "alive": [...]} lines in one fixed spelling so traces
%% of different runners can be compared with diff; anything else is kept
%% verbatim, marked, so that diff shows it.
canonicalise(Text) ->
    Lines = [L || L <- binary:split(Text, <<"\n">>, [global]), L =/= <<>>],
    lists:foreach(
      fun(Line) ->
              Out = try json_decode(Line) of
                        #{<<"step">> := N, <<"alive">> := Alive} = M
                          when map_size(M) =:= 2, is_integer(N), is_list(Alive) ->
                            json_encode({obj, [{step, N}, {alive, Alive}]});
                        _ -> [<<"NOT A TRACE LINE: ">>, Line]
                    catch _:_ -> [<<"NOT JSON: ">>, Line]
                    end,
              io:put_chars([Out, "\n"])
      end, Lines).

fail(Format, Args) ->
    io:format(standard_error, "scenario.escript: " ++ Format ++ "~n", Args),
    halt(2).
