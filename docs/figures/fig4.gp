set terminal pngcairo size 800,500
set output 'docs/figures/fig4.png'
set datafile separator ','
set key right center
set yrange [0:1.05]
set xlabel 'gateways p'
set ylabel 'fraction of links exposed'
set title 'Captured-link rate, n = 400'
plot 'docs/figures/fig4.csv' using 1:4 with linespoints title 'gateway, measured', \
     '' using 1:5 with lines dashtype 2 title 'gateway, Prop. 3', \
     '' using 1:6 with linespoints title 'gateway, any set (naive)', \
     '' using 1:2 with linespoints title 'node, measured', \
     '' using 1:3 with lines dashtype 2 title 'node, Prop. 1'
