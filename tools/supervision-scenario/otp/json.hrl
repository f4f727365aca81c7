%% Minimal JSON codec for the scenario escripts (erlang-base of OTP 25 has no
%% json module). Enough for scenario files: objects (maps with binary keys),
%% arrays, strings, integers, floats, true/false/null. Not a general-purpose
%% parser: it rejects anything else with error({json, ...}).

json_decode(Bin) when is_binary(Bin) ->
    {Value, Rest} = json_value(json_ws(Bin)),
    case json_ws(Rest) of
        <<>> -> Value;
        Trailing -> error({json, trailing_data, json_excerpt(Trailing)})
    end.

json_ws(<<C, R/binary>>) when C =:= $\s; C =:= $\t; C =:= $\n; C =:= $\r ->
    json_ws(R);
json_ws(B) -> B.

json_value(<<${, R/binary>>) -> json_object(json_ws(R), #{});
json_value(<<$[, R/binary>>) -> json_array(json_ws(R), []);
json_value(<<$", R/binary>>) -> json_string(R, <<>>);
json_value(<<"true", R/binary>>) -> {true, R};
json_value(<<"false", R/binary>>) -> {false, R};
json_value(<<"null", R/binary>>) -> {null, R};
json_value(<<C, _/binary>> = B) when C =:= $-; C >= $0, C =< $9 ->
    json_number(B);
json_value(B) -> error({json, unexpected, json_excerpt(B)}).

json_object(<<$}, R/binary>>, Acc) -> {Acc, R};
json_object(<<$", R0/binary>>, Acc) ->
    {Key, R1} = json_string(R0, <<>>),
    case json_ws(R1) of
        <<$:, R2/binary>> ->
            {Value, R3} = json_value(json_ws(R2)),
            Acc1 = Acc#{Key => Value},
            case json_ws(R3) of
                <<$,, R4/binary>> -> json_object(json_ws(R4), Acc1);
                <<$}, R4/binary>> -> {Acc1, R4};
                B -> error({json, expected_comma_or_brace, json_excerpt(B)})
            end;
        B -> error({json, expected_colon, json_excerpt(B)})
    end;
json_object(B, _) -> error({json, expected_key, json_excerpt(B)}).

json_array(<<$], R/binary>>, []) -> {[], R};
json_array(B, Acc) ->
    {Value, R1} = json_value(B),
    case json_ws(R1) of
        <<$,, R2/binary>> -> json_array(json_ws(R2), [Value | Acc]);
        <<$], R2/binary>> -> {lists:reverse([Value | Acc]), R2};
        B2 -> error({json, expected_comma_or_bracket, json_excerpt(B2)})
    end.

json_string(<<$", R/binary>>, Acc) -> {Acc, R};
json_string(<<$\\, E, R/binary>>, Acc) when E =/= $u ->
    C = case E of
            $" -> $"; $\\ -> $\\; $/ -> $/; $b -> $\b;
            $f -> $\f; $n -> $\n; $r -> $\r; $t -> $\t;
            _ -> error({json, bad_escape, E})
        end,
    json_string(R, <<Acc/binary, C>>);
json_string(<<"\\u", H:4/binary, R/binary>>, Acc) ->
    Code = binary_to_integer(H, 16),
    json_string(R, <<Acc/binary, Code/utf8>>);
json_string(<<C, R/binary>>, Acc) -> json_string(R, <<Acc/binary, C>>);
json_string(<<>>, _) -> error({json, unterminated_string}).

json_number(B) ->
    {Digits, R} = json_take_number(B, <<>>),
    Value = try binary_to_integer(Digits)
            catch error:badarg -> binary_to_float(Digits)
            end,
    {Value, R}.

json_take_number(<<C, R/binary>>, Acc)
  when C >= $0, C =< $9; C =:= $-; C =:= $+; C =:= $.; C =:= $e; C =:= $E ->
    json_take_number(R, <<Acc/binary, C>>);
json_take_number(R, Acc) -> {Acc, R}.

json_excerpt(B) -> binary:part(B, 0, min(byte_size(B), 40)).

%% Encoder for the trace lines: integers, binaries (strings), lists, maps.
%% Keys of maps are emitted in the order given by a [{Key, Value}] list so the
%% output has a fixed field order: json_encode({obj, [{K, V}, ...]}).
json_encode({obj, Fields}) ->
    Parts = [[json_encode(K), ": ", json_encode(V)] || {K, V} <- Fields],
    ["{", lists:join(", ", Parts), "}"];
json_encode(L) when is_list(L) ->
    ["[", lists:join(", ", [json_encode(V) || V <- L]), "]"];
json_encode(I) when is_integer(I) -> integer_to_binary(I);
json_encode(true) -> <<"true">>;
json_encode(false) -> <<"false">>;
json_encode(null) -> <<"null">>;
json_encode(B) when is_binary(B) -> [$", json_escape(B, <<>>), $"];
json_encode(A) when is_atom(A) -> json_encode(atom_to_binary(A)).

json_escape(<<$", R/binary>>, Acc) -> json_escape(R, <<Acc/binary, "\\\"">>);
json_escape(<<$\\, R/binary>>, Acc) -> json_escape(R, <<Acc/binary, "\\\\">>);
json_escape(<<C, R/binary>>, Acc) when C < 16#20 ->
    Hex = iolist_to_binary(io_lib:format("\\u~4.16.0b", [C])),
    json_escape(R, <<Acc/binary, Hex/binary>>);
json_escape(<<C, R/binary>>, Acc) -> json_escape(R, <<Acc/binary, C>>);
json_escape(<<>>, Acc) -> Acc.
