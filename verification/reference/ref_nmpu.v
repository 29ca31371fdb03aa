// Hand-written reference NMPU, for measuring the generator (issue 12). Written from
// docs/arithmetic.md and the README's description of the ports and protocol, not from
// nmpu-rtl. Plain Verilog-2005, parameterised by the configuration's formats; the
// verification crate instantiates it with a config's values (verification/src/reference.rs)
// and co-simulates it against the golden model like the generated unit.
//
// Register stages as in the generated unit: edge 0 input and bank read, 1 affine sum,
// 2 affine result, 3 batch-norm sum, 4 batch-norm result, 5 output code (latency 6).
// Widths are the conventional bounds of docs/arithmetic.md section 3: a signed product of
// the two operands' widths (an unsigned operand gains a zero bit), the exact sum as wide as
// the wider aligned operand plus a carry bit.
//
// Rounding modes: 0 floor, 1 half_up, 2 half_even, 3 half_away. WRAP 0 saturates.

// quantize(t, SH, R): round t / 2^SH to an integer, then saturate (or wrap) into R.
module ref_quantize #(
    parameter TW = 8,
    parameter SH = 0,
    parameter RW = 8,
    parameter RS = 1,
    parameter RND = 0,
    parameter WRAP = 0
) (
    input  wire signed [TW-1:0] t,
    output wire        [RW-1:0] r
);
    // Room for every bit index the rounding looks at (t sign-extended).
    localparam EW = (TW > SH + 1 ? TW : SH + 1) + 1;
    wire signed [EW-1:0] te = t;
    wire up;
    generate
        if (SH == 0) begin : g_exact
            assign up = 1'b0;
        end else begin : g_round
            wire half = te[SH-1];
            wire sticky;
            if (SH >= 2) begin : g_sticky
                assign sticky = |te[SH-2:0];
            end else begin : g_no_sticky
                assign sticky = 1'b0;
            end
            if (RND == 1) begin : g_half_up
                assign up = half;
            end else if (RND == 2) begin : g_half_even
                assign up = half & (sticky | te[SH]);
            end else if (RND == 3) begin : g_half_away
                assign up = half & (sticky | ~te[EW-1]);
            end else begin : g_floor
                assign up = 1'b0;
            end
        end
    endgenerate
    wire signed [EW-SH:0] rounded = $signed(te[EW-1:SH]) + $signed({1'b0, up});

    localparam CW = (EW - SH + 1 > RW + 1) ? EW - SH + 1 : RW + 1;
    wire signed [CW-1:0] rc = rounded;
    wire signed [CW-1:0] max_code = RS ? {{(CW - RW + 1){1'b0}}, {(RW - 1){1'b1}}}
                                       : {{(CW - RW){1'b0}}, {RW{1'b1}}};
    wire signed [CW-1:0] min_code = RS ? {{(CW - RW + 1){1'b1}}, {(RW - 1){1'b0}}}
                                       : {CW{1'b0}};
    assign r = WRAP ? rc[RW-1:0]
             : (rc > max_code) ? max_code[RW-1:0]
             : (rc < min_code) ? min_code[RW-1:0]
             : rc[RW-1:0];
endmodule

// r = quantize(v*k + o): the exact sum registered, then the rounded result registered.
module ref_mac #(
    parameter VW = 13, parameter VS = 1, parameter VF = 0,
    parameter KW = 14, parameter KS = 0, parameter KF = 13,
    parameter OW = 14, parameter OS = 1, parameter OF = 2,
    parameter RW = 15, parameter RS = 1, parameter RF = 1,
    parameter RND = 2, parameter WRAP = 0
) (
    input  wire          clock,
    input  wire          en,
    input  wire [VW-1:0] v,
    input  wire [KW-1:0] k,
    input  wire [OW-1:0] o,
    output reg  [RW-1:0] r
);
    localparam VX = VS ? VW : VW + 1;
    localparam KX = KS ? KW : KW + 1;
    localparam OX = OS ? OW : OW + 1;
    wire signed [VX-1:0] v_s = VS ? $signed(v) : $signed({1'b0, v});
    wire signed [KX-1:0] k_s = KS ? $signed(k) : $signed({1'b0, k});
    wire signed [OX-1:0] o_s = OS ? $signed(o) : $signed({1'b0, o});

    // Align product and offset to f = max(frac(P), frac(O), frac(R)).
    localparam PW = VX + KX;
    localparam PF = VF + KF;
    localparam F = (PF > OF) ? (PF > RF ? PF : RF) : (OF > RF ? OF : RF);
    localparam PS = F - PF;
    localparam OSH = F - OF;
    localparam TW = ((PW + PS > OX + OSH) ? PW + PS : OX + OSH) + 1;

    wire signed [PW-1:0] product = v_s * k_s;
    wire signed [TW-1:0] t = (product <<< PS) + (o_s <<< OSH);
    reg  signed [TW-1:0] sum;
    wire [RW-1:0] result;
    ref_quantize #(.TW(TW), .SH(F - RF), .RW(RW), .RS(RS), .RND(RND), .WRAP(WRAP))
        quantize (.t(sum), .r(result));
    always @(posedge clock) if (en) begin
        sum <= t;
        r <= result;
    end
endmodule

// One coefficient of one lane: DEPTH words, read synchronously; out-of-range reads give 0.
module ref_bank #(
    parameter W = 8,
    parameter DEPTH = 8
) (
    input  wire         clock,
    input  wire         we,
    input  wire [11:0]  waddr,
    input  wire [W-1:0] wdata,
    input  wire         re,
    input  wire [11:0]  raddr,
    output reg  [W-1:0] rdata
);
    reg [W-1:0] mem [0:DEPTH-1];
    always @(posedge clock) begin
        if (we && waddr < DEPTH) mem[waddr] <= wdata;
        if (re) rdata <= (raddr < DEPTH) ? mem[raddr] : {W{1'b0}};
    end
endmodule

module ref_lane #(
    parameter DEPTH = 8, parameter IN_BITS = 13, parameter FUSED = 0, parameter RELU = 1,
    parameter A_W = 14, parameter A_S = 0, parameter A_F = 13,
    parameter B_W = 14, parameter B_S = 1, parameter B_F = 2,
    parameter G_W = 18, parameter G_S = 1, parameter G_F = 20,
    parameter H_W = 15, parameter H_S = 1, parameter H_F = 6,
    parameter Y_W = 15, parameter Y_S = 1, parameter Y_F = 1, parameter Y_RND = 2, parameter Y_WRAP = 0,
    parameter Z_W = 15, parameter Z_S = 1, parameter Z_F = 6, parameter Z_RND = 2, parameter Z_WRAP = 0,
    parameter O_W = 8,  parameter O_S = 1, parameter O_F = 0, parameter O_RND = 2, parameter O_WRAP = 0
) (
    input  wire               clock,
    input  wire               en,
    input  wire [IN_BITS-1:0] x,
    input  wire [11:0]        raddr,
    input  wire               we,
    input  wire [1:0]         sel,
    input  wire [11:0]        waddr,
    input  wire [31:0]        wdata,
    output reg  [15:0]        y
);
    wire [A_W-1:0] a;
    wire [B_W-1:0] b;
    wire [G_W-1:0] g;
    wire [H_W-1:0] h;
    ref_bank #(.W(A_W), .DEPTH(DEPTH)) bank_a (.clock(clock), .we(we && sel == 2'd0), .waddr(waddr),
        .wdata(wdata[A_W-1:0]), .re(en), .raddr(raddr), .rdata(a));
    ref_bank #(.W(B_W), .DEPTH(DEPTH)) bank_b (.clock(clock), .we(we && sel == 2'd1), .waddr(waddr),
        .wdata(wdata[B_W-1:0]), .re(en), .raddr(raddr), .rdata(b));
    ref_bank #(.W(G_W), .DEPTH(DEPTH)) bank_g (.clock(clock), .we(we && sel == 2'd2), .waddr(waddr),
        .wdata(wdata[G_W-1:0]), .re(en), .raddr(raddr), .rdata(g));
    ref_bank #(.W(H_W), .DEPTH(DEPTH)) bank_h (.clock(clock), .we(we && sel == 2'd3), .waddr(waddr),
        .wdata(wdata[H_W-1:0]), .re(en), .raddr(raddr), .rdata(h));

    reg [IN_BITS-1:0] x_q;
    always @(posedge clock) if (en) x_q <= x;

    // The batch-norm result z (fused: the one multiply-add's, delayed two edges).
    wire [Z_W-1:0] z;
    generate
        if (FUSED) begin : g_fused
            wire [Z_W-1:0] r1;
            reg  [Z_W-1:0] r2, r3;
            ref_mac #(.VW(IN_BITS), .VS(1), .VF(0), .KW(A_W), .KS(A_S), .KF(A_F),
                      .OW(B_W), .OS(B_S), .OF(B_F), .RW(Z_W), .RS(Z_S), .RF(Z_F),
                      .RND(Z_RND), .WRAP(Z_WRAP))
                affine (.clock(clock), .en(en), .v(x_q), .k(a), .o(b), .r(r1));
            always @(posedge clock) if (en) begin
                r2 <= r1;
                r3 <= r2;
            end
            assign z = r3;
        end else begin : g_unfused
            wire [Y_W-1:0] yv;
            reg  [G_W-1:0] g1, g2;
            reg  [H_W-1:0] h1, h2;
            ref_mac #(.VW(IN_BITS), .VS(1), .VF(0), .KW(A_W), .KS(A_S), .KF(A_F),
                      .OW(B_W), .OS(B_S), .OF(B_F), .RW(Y_W), .RS(Y_S), .RF(Y_F),
                      .RND(Y_RND), .WRAP(Y_WRAP))
                affine (.clock(clock), .en(en), .v(x_q), .k(a), .o(b), .r(yv));
            always @(posedge clock) if (en) begin
                g1 <= g;
                g2 <= g1;
                h1 <= h;
                h2 <= h1;
            end
            ref_mac #(.VW(Y_W), .VS(Y_S), .VF(Y_F), .KW(G_W), .KS(G_S), .KF(G_F),
                      .OW(H_W), .OS(H_S), .OF(H_F), .RW(Z_W), .RS(Z_S), .RF(Z_F),
                      .RND(Z_RND), .WRAP(Z_WRAP))
                batch_norm (.clock(clock), .en(en), .v(yv), .k(g2), .o(h2), .r(z));
        end
    endgenerate

    // activation, then requantize: align to max(frac(Z), frac(OUT)) and round to OUT.
    localparam QF = Z_F > O_F ? Z_F : O_F;
    localparam AL = QF - Z_F;
    localparam ZX = Z_S ? Z_W : Z_W + 1;
    wire signed [ZX-1:0] z_s = Z_S ? $signed(z) : $signed({1'b0, z});
    wire signed [ZX-1:0] act = (RELU && z_s < 0) ? {ZX{1'b0}} : z_s;
    wire signed [ZX+AL-1:0] aligned = act <<< AL;
    wire [O_W-1:0] code;
    ref_quantize #(.TW(ZX + AL), .SH(QF - O_F), .RW(O_W), .RS(O_S), .RND(O_RND), .WRAP(O_WRAP))
        requantize (.t(aligned), .r(code));
    wire signed [O_W:0] code_x = O_S ? $signed({code[O_W-1], code}) : $signed({1'b0, code});
    always @(posedge clock) if (en) y <= code_x;
endmodule

module ref_nmpu #(
    parameter COLUMNS = 8, parameter LANES = 1, parameter IN_BITS = 13,
    parameter FUSED = 0, parameter RELU = 1,
    parameter A_W = 14, parameter A_S = 0, parameter A_F = 13,
    parameter B_W = 14, parameter B_S = 1, parameter B_F = 2,
    parameter G_W = 18, parameter G_S = 1, parameter G_F = 20,
    parameter H_W = 15, parameter H_S = 1, parameter H_F = 6,
    parameter Y_W = 15, parameter Y_S = 1, parameter Y_F = 1, parameter Y_RND = 2, parameter Y_WRAP = 0,
    parameter Z_W = 15, parameter Z_S = 1, parameter Z_F = 6, parameter Z_RND = 2, parameter Z_WRAP = 0,
    parameter O_W = 8,  parameter O_S = 1, parameter O_F = 0, parameter O_RND = 2, parameter O_WRAP = 0
) (
    input  wire                  clock,
    input  wire                  reset,
    input  wire                  s_valid,
    output wire                  s_ready,
    input  wire [11:0]           s_col,
    input  wire [LANES*24-1:0]   s_x,
    output wire                  m_valid,
    input  wire                  m_ready,
    output wire [11:0]           m_col,
    output wire [LANES*16-1:0]   m_y,
    input  wire                  cfg_we,
    input  wire [1:0]            cfg_sel,
    input  wire [11:0]           cfg_col,
    input  wire [31:0]           cfg_data
);
    localparam LATENCY = 6;
    localparam DEPTH = COLUMNS / LANES;

    // The whole pipeline moves when its last stage is empty or being read.
    reg  [LATENCY-1:0] valid;
    reg  [11:0] col [0:LATENCY-1];
    wire advance = !valid[LATENCY-1] || m_ready;
    assign s_ready = advance;
    assign m_valid = valid[LATENCY-1];
    assign m_col = col[LATENCY-1];
    integer i;
    always @(posedge clock) begin
        if (reset) valid <= {LATENCY{1'b0}};
        else if (advance) valid <= {valid[LATENCY-2:0], s_valid};
        if (advance) begin
            col[0] <= s_col;
            for (i = 1; i < LATENCY; i = i + 1) col[i] <= col[i-1];
        end
    end

    wire [11:0] raddr = s_col / LANES;
    wire [11:0] waddr = cfg_col / LANES;
    wire [11:0] wlane = cfg_col % LANES;
    wire        wr = cfg_we && cfg_col < COLUMNS;

    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            ref_lane #(
                .DEPTH(DEPTH), .IN_BITS(IN_BITS), .FUSED(FUSED), .RELU(RELU),
                .A_W(A_W), .A_S(A_S), .A_F(A_F), .B_W(B_W), .B_S(B_S), .B_F(B_F),
                .G_W(G_W), .G_S(G_S), .G_F(G_F), .H_W(H_W), .H_S(H_S), .H_F(H_F),
                .Y_W(Y_W), .Y_S(Y_S), .Y_F(Y_F), .Y_RND(Y_RND), .Y_WRAP(Y_WRAP),
                .Z_W(Z_W), .Z_S(Z_S), .Z_F(Z_F), .Z_RND(Z_RND), .Z_WRAP(Z_WRAP),
                .O_W(O_W), .O_S(O_S), .O_F(O_F), .O_RND(O_RND), .O_WRAP(O_WRAP)
            ) lane (
                .clock(clock), .en(advance), .x(s_x[l*24 +: IN_BITS]), .raddr(raddr),
                .we(wr && wlane == l), .sel(cfg_sel), .waddr(waddr), .wdata(cfg_data),
                .y(m_y[l*16 +: 16])
            );
        end
    endgenerate
endmodule
