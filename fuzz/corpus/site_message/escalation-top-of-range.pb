9ÿÿÿÿÿÿÿÿÿ
inc-maxtop of the range( þÿÿÿÿÿÿÿÿ